/* heatline's flame graph: builds the call tree from the document's stacks (passed through by
 * report/html.py, _flame: tables of files, functions and frames, and stacks that share their
 * outer frames with the stack before) and draws it inside `section`: a view per measured value,
 * zoom, search and hover. Loaded beside report.js, which calls it; touches nothing outside
 * `section`, so that several reports can share a notebook page. */
function heatlineFlame(section, data, escapeHtml) {
  "use strict";
  const ROW_PX = 18;
  // A frame narrower than this is not drawn, nor are its callees; the text of one narrower than
  // LABEL_PX is not shown (a wider one cuts its text to fit).
  const MIN_PX = 1;
  const LABEL_PX = 28;
  // Lines of a function named in its hover, the ones with the most of the view first.
  const HOVER_LINES = 4;
  const SEARCH_WAIT_MS = 120;
  const K = data.keys.length;
  const at = (key) => data.keys.indexOf(key);
  const KINDS = [["python", at("python_s")], ["native", at("native_s")], ["system", at("system_s")]];

  // ---- the call tree: one node per function per path of callers, with inclusive values ----
  const nodes = [];
  function newNode(fn, parent) {
    const node = { id: nodes.length, fn, parent, depth: parent ? parent.depth + 1 : 0,
      values: new Float64Array(K), lines: new Map(), children: new Map() };
    nodes.push(node);
    return node;
  }
  const root = newNode(-1, null);
  (function build() {
    const frames = [];  // the frames of the stack before, root first
    const path = [root];  // path[i + 1] is the node of frames[i]
    for (const entry of data.stacks) {
      const shared = entry[0];
      frames.length = shared;
      path.length = shared + 1;
      for (let i = 1 + K; i < entry.length; i++) {
        const frame = entry[i], parent = path[path.length - 1], fn = data.frames[frame][0];
        let node = parent.children.get(fn);
        if (!node) { node = newNode(fn, parent); parent.children.set(fn, node); }
        frames.push(frame);
        path.push(node);
      }
      // Every node on the path holds this stack's values (values are inclusive), and so does
      // the line its frame was on: a function called from two lines is one node with two lines.
      for (let i = 0; i < path.length; i++) {
        const node = path[i];
        for (let k = 0; k < K; k++) node.values[k] += entry[1 + k];
        if (i === 0) continue;
        const line = data.frames[frames[i - 1]][1];
        let byLine = node.lines.get(line);
        if (!byLine) node.lines.set(line, byLine = new Float64Array(K));
        for (let k = 0; k < K; k++) byLine[k] += entry[1 + k];
      }
    }
  })();

  // ---- numbers, as report/numbers.py writes them ----
  function seconds(value) {
    if (value >= 0.9995) return value.toFixed(2) + " s";
    if (value === 0) return "0 s";
    const milliseconds = value * 1000;
    if (milliseconds >= 9.95) return milliseconds.toFixed(0) + " ms";
    if (milliseconds >= 0.05) return milliseconds.toFixed(1) + " ms";
    return "<0.1 ms";
  }
  function megabytes(value) {
    if (value === 0) return "0 MB";
    const text = value.toFixed(1);
    return (+text === 0 ? "<0.1" : text) + " MB";
  }
  function percent(value) {
    if (value > 0 && +value.toFixed(1) === 0) return "<0.1%";
    return value.toFixed(1) + "%";
  }

  // ---- what is shown ----
  const views = Object.fromEntries(data.views.map((view) => [view.key, view]));
  const state = { view: data.views[0], zoom: root, query: "", matched: null };
  function sum(values, view) {
    let total = 0;
    for (const k of view.values) total += values[k];
    return total;
  }
  const valueOf = (node) => sum(node.values, state.view);
  const format = (value) => (state.view.unit === "s" ? seconds(value) : megabytes(value));
  const nameOf = (node) => (node.fn < 0 ? "all" : data.functions[node.fn][0]);
  const fileOf = (node) => (node.fn < 0 || data.functions[node.fn][1] < 0 ? null : data.files[data.functions[node.fn][1]]);
  const isProgram = (node) => node.fn >= 0 && data.functions[node.fn][3] === 1;

  section.innerHTML = `<h2>Flame graph</h2>`
    + `<p class="hl-flame-about">Each frame is a function, called through the frames above it; its width`
    + ` is its share of <span class="hl-flame-what"></span>, with all it called. Click a frame to zoom`
    + ` into it; click <strong>all</strong>, or a caller in the path, to go back.</p>`
    + `<div class="hl-flame-bar"><span class="hl-flame-views" role="group" aria-label="what the widths show">`
    + data.views.map((view) => `<button type="button" class="hl-flame-view" data-view="${view.key}"`
      + ` title="${escapeHtml(view.legend)}">${escapeHtml(view.label)}</button>`).join("")
    + `</span><input type="search" class="hl-flame-search" placeholder="Search function or file"`
    + ` aria-label="search function or file"><span class="hl-flame-found" aria-live="polite"></span></div>`
    + `<nav class="hl-flame-path" aria-label="zoomed into"></nav>`
    + `<div class="hl-flame-chart"></div><p class="hl-flame-key"></p>`
    + `<div class="hl-flame-tip" role="tooltip" hidden></div>`;
  const chart = section.querySelector(".hl-flame-chart");
  const tip = section.querySelector(".hl-flame-tip");
  let drawnWidth = 0;

  // A node's callees with something in the view, the biggest first: [value, node].
  function callees(node) {
    const sized = [];
    for (const child of node.children.values()) {
      const value = valueOf(child);
      if (value > 0) sized.push([value, child]);
    }
    return sized.sort((a, b) => b[0] - a[0] || a[1].id - b[1].id);
  }

  function frameHtml(node, left, width, classes) {
    const value = valueOf(node);
    let style = `left:${left.toFixed(2)}px;width:${width.toFixed(2)}px;top:${node.depth * ROW_PX}px`;
    if (state.view.key === "time" && value > 0) {
      // The time view stacks the kinds: Python up to --p, native up to --n, system after.
      const python = node.values[KINDS[0][1]] / value * 100, native = node.values[KINDS[1][1]] / value * 100;
      style += `;--p:${python.toFixed(2)}%;--n:${(python + native).toFixed(2)}%`;
    }
    const kind = node.fn < 0 ? " hl-all" : isProgram(node) ? " hl-program" : " hl-library";
    const found = state.matched && state.matched.has(node.fn) ? " hl-found" : "";
    const narrow = width < LABEL_PX ? " hl-narrow" : "";
    const label = escapeHtml(node.fn < 0 ? `all: ${format(value)}` : nameOf(node));
    return `<div class="hl-frame${kind}${found}${narrow}${classes}" data-node="${node.id}" style="${style}">${label}</div>`;
  }

  function draw() {
    const width = chart.clientWidth;
    if (!width) return;
    drawnWidth = width;
    const parts = [];
    let deepest = state.zoom.depth;
    // The zoomed frame's callers, each the full width, then the zoomed frame and its callees.
    for (let node = state.zoom.parent; node; node = node.parent) parts.push(frameHtml(node, 0, width, " hl-caller"));
    parts.push(frameHtml(state.zoom, 0, width, ""));
    const total = valueOf(state.zoom);
    const drawCallees = (node, left, scale) => {
      for (const [value, child] of callees(node)) {
        const childWidth = value * scale;
        if (childWidth < MIN_PX) break;  // the rest are narrower still
        parts.push(frameHtml(child, left, childWidth, ""));
        deepest = Math.max(deepest, child.depth);
        drawCallees(child, left, scale);
        left += childWidth;
      }
    };
    if (total > 0) drawCallees(state.zoom, 0, width / total);
    chart.classList.toggle("hl-searching", state.matched !== null);
    chart.dataset.view = state.view.key;
    chart.style.height = `${(deepest + 1) * ROW_PX}px`;
    chart.innerHTML = parts.join("");
    drawPath();
    drawKey();
  }

  function drawPath() {
    const path = [];
    for (let node = state.zoom; node; node = node.parent) path.unshift(node);
    section.querySelector(".hl-flame-path").innerHTML = path.map((node) => (node === state.zoom
      ? `<strong>${escapeHtml(nameOf(node))}</strong>`
      : `<button type="button" class="hl-flame-up" data-node="${node.id}">${escapeHtml(nameOf(node))}</button>`))
      .join(" &rsaquo; ");
  }

  function drawKey() {
    const view = state.view;
    const swatch = (kind, text) => `<span class="hl-swatch hl-swatch-${kind}"></span> ${escapeHtml(text)}`;
    const kinds = view.key === "time"
      ? KINDS.map(([kind]) => swatch(kind, kind === "python" ? "Python" : kind)).join(" ")
      : swatch(view.key === "gil" ? "gil" : "memory", view.label);
    section.querySelector(".hl-flame-key").innerHTML = `${kinds}; the program's functions strong,`
      + ` libraries' pale. ${escapeHtml(`all: ${format(valueOf(root))} of ${view.legend}`)}.`;
    section.querySelector(".hl-flame-what").textContent = view.of;
    for (const button of section.querySelectorAll(".hl-flame-view")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === view.key));
    }
  }

  // ---- search: which functions match, and what share of the view they hold ----
  function search(query) {
    state.query = query;
    const found = section.querySelector(".hl-flame-found");
    if (!query) {
      state.matched = null;
      found.textContent = "";
      return;
    }
    state.matched = new Set();
    data.functions.forEach(([name, file], fn) => {
      if (name.toLowerCase().includes(query) || (file >= 0 && data.files[file].toLowerCase().includes(query))) {
        state.matched.add(fn);
      }
    });
    // A match called by another match is in its caller's value already: count it once.
    let held = 0;
    const walk = (node, inMatch) => {
      const matches = state.matched.has(node.fn);
      if (matches && !inMatch) held += valueOf(node);
      for (const child of node.children.values()) walk(child, inMatch || matches);
    };
    walk(root, false);
    const all = valueOf(root);
    const count = state.matched.size;
    found.textContent = count === 0 ? "no function matches"
      : `${count} function${count === 1 ? " matches" : "s match"}: ${percent(all > 0 ? held / all * 100 : 0)}`
        + ` of ${state.view.of} (${format(held)})`;
  }

  // ---- hover ----
  function hoverHtml(node) {
    const value = valueOf(node), all = valueOf(root);
    const own = value - [...node.children.values()].reduce((total, child) => total + valueOf(child), 0);
    const rows = [`<strong>${escapeHtml(nameOf(node))}</strong>${node.fn >= 0 && !isProgram(node) ? " <em>(library)</em>" : ""}`];
    const file = fileOf(node);
    if (file !== null) {
      const lines = [...node.lines].sort((a, b) => sum(b[1], state.view) - sum(a[1], state.view));
      let where = `${file}:${lines[0][0]}`;
      if (lines.length > 1) {
        where += ` (${lines.slice(0, HOVER_LINES).map(([line, values]) => `line ${line}: ${percent(value > 0 ? sum(values, state.view) / value * 100 : 0)}`).join(", ")}`
          + `${lines.length > HOVER_LINES ? `, ${lines.length - HOVER_LINES} more lines` : ""})`;
      }
      rows.push(escapeHtml(where));
    }
    rows.push(escapeHtml(`${state.view.label}: ${format(value)}, ${percent(all > 0 ? value / all * 100 : 0)} of all`
      + (state.zoom !== root && state.zoom !== node && valueOf(state.zoom) > 0
        ? `, ${percent(value / valueOf(state.zoom) * 100)} of ${nameOf(state.zoom)}` : "")
      + `; own ${format(Math.max(own, 0))}`));
    // Every value the document measured, whatever the view: time by kind, then memory.
    const figures = (named, write) => named.filter(([key]) => at(key) >= 0)
      .map(([key, name]) => `${name} ${write(node.values[at(key)])}`).join(", ");
    rows.push(escapeHtml(figures([["python_s", "Python"], ["native_s", "native"], ["system_s", "system"],
      ["gil_wait_s", "GIL wait"]], seconds)));
    const memory = figures([["alloc_mb", "allocated"], ["peak_mb", "at the peak"]], megabytes);
    if (memory) rows.push(escapeHtml(memory));
    return rows.map((row) => `<div>${row}</div>`).join("");
  }

  function showTip(node, event) {
    tip.innerHTML = hoverHtml(node);
    tip.hidden = false;
    const box = section.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    // Beside the pointer, inside the section: below it, or above it where the section ends.
    const left = Math.max(0, Math.min(x + 12, box.width - tip.offsetWidth));
    const below = y + 16;
    tip.style.left = `${left}px`;
    tip.style.top = `${below + tip.offsetHeight <= box.height ? below : Math.max(0, y - 8 - tip.offsetHeight)}px`;
  }

  // ---- interaction ----
  const nodeOf = (element) => nodes[+element.dataset.node];
  function zoomTo(node) {
    state.zoom = node;
    tip.hidden = true;
    draw();
  }
  section.addEventListener("click", (event) => {
    const target = event.target.closest(".hl-frame, .hl-flame-up, .hl-flame-view");
    if (!target) return;
    if (target.classList.contains("hl-flame-view")) {
      state.view = views[target.dataset.view];
      if (valueOf(state.zoom) === 0) state.zoom = root;
      if (state.query) search(state.query);
      draw();
      return;
    }
    zoomTo(nodeOf(target));
  });
  chart.addEventListener("mousemove", (event) => {
    const frame = event.target.closest(".hl-frame");
    if (frame) showTip(nodeOf(frame), event);
    else tip.hidden = true;
  });
  chart.addEventListener("mouseleave", () => { tip.hidden = true; });
  const searchBox = section.querySelector(".hl-flame-search");
  let pending = null;
  searchBox.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => { search(searchBox.value.trim().toLowerCase()); draw(); }, SEARCH_WAIT_MS);
  });
  // Drawn again when its width changes (a window resized, a notebook output shown).
  if (window.ResizeObserver) {
    new ResizeObserver(() => { if (chart.clientWidth !== drawnWidth) draw(); }).observe(chart);
  }
  draw();
  if (window.performance && performance.mark) performance.mark("heatline-flame-drawn");
}
