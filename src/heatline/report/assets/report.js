/* heatline's HTML report: builds the page inside `root` from the JSON data beside it (made by
 * report/html.py), and handles sorting, folding, the reduced-profile toggle and search; the
 * flame graph is flame.js's (heatlineFlame), given its own section.
 * Never loads anything: the page must open offline. Everything it touches is inside `root`, so
 * that several reports can share a notebook page. */
function heatlineReport(root) {
  "use strict";
  const data = JSON.parse(root.querySelector("script.heatline-data").textContent);
  // Files opened at first paint, by share of the time, until this many rows are drawn; the
  // others are drawn when unfolded, so that a 20,000-line profile paints at once.
  const OPEN_ROWS = 2000;
  const SPARK_TOP = 35;
  const FOLDED_PROCESSES = 10;
  const state = { reduced: data.reduced, query: "" };

  const escapeHtml = (text) => String(text).replace(/[&<>"]/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

  // ---- numbers: Python rounded them to what is shown (html.py, _shown_number) ----
  const decimal = (value, digits) => {
    if (value === null || value === 0) return "";
    if (value < Math.pow(10, -digits)) return "<" + Math.pow(10, -digits).toFixed(digits);
    return value.toFixed(digits);
  };
  const FORMATS = {
    int: (v) => (v === null ? "" : String(v)),
    text: (v) => escapeHtml(v === null ? "" : v),
    label: (v) => escapeHtml(v === null ? "" : v),
    measured: (v) => escapeHtml(v[1]),
    source: (v) => escapeHtml(v),
    percent: (v) => { const text = decimal(v, 1); return text && text + "%"; },
    mb: (v) => decimal(v, 1),
    share: (v) => (v === null ? "" : v + "%"),
    leak: (v) => (v === null ? "" : `<span class="hl-leak">${v[1]}</span> ${escapeHtml(v[2])} MB/s`),
    spark: (v) => sparkline(v),
  };
  const SORT_VALUES = {
    int: (v) => (v === null ? -1 : v),
    text: (v) => String(v),
    label: (v) => String(v),
    measured: (v) => v[0],
    source: (v) => String(v).trim(),
    percent: (v) => (v === null ? -1 : v),
    mb: (v) => (v === null ? -1 : v),
    share: (v) => (v === null ? -1 : v),
    leak: (v) => (v === null ? -1 : v[0]),
  };
  // Time columns keep the colors of their kinds, as in the terminal report.
  const KEY_CLASSES = new Set(["python", "native", "system", "gil"]);
  const ASCENDING_FIRST = new Set(["int", "text", "label", "source"]);
  // Text sorts as people read it: case aside, "demo.py:9" before "demo.py:12".
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  const compare = (a, b) => (typeof a === "string" ? collator.compare(a, b) : a < b ? -1 : a > b ? 1 : 0);

  function sparkline(levels) {
    if (!levels) return "";
    let path = "M0 10";
    for (let i = 0; i < levels.length; i++) {
      const y = 10 - (parseInt(levels[i], 36) / SPARK_TOP) * 9.5;
      path += `V${+y.toFixed(2)}H${i + 1}`;
    }
    return `<svg class="hl-spark" viewBox="0 0 ${levels.length} 10" preserveAspectRatio="none" aria-hidden="true"><path d="${path}V10Z"/></svg>`;
  }

  // ---- tables: each is {kind, columns, rows, sort}; a column reads row[column.at] ----
  const measureColumns = data.columns.map((column, i) => ({ ...column, at: i + 2 }));
  const keyed = Object.fromEntries(measureColumns.map((column) => [column.key, column]));
  const barScale = (rows) => rows.reduce((most, row) => Math.max(most, timeOf(row)), 1e-9);
  const timeOf = (row) => ["python", "native", "system"].reduce((sum, key) => sum + (row[keyed[key].at] || 0), 0);
  const allLines = data.files.flatMap((file) => file.lines);
  const allFunctions = data.files.flatMap((file) => file.functions);
  const lineScale = barScale(allLines);
  const functionScale = barScale(allFunctions);

  function bar(row, scale) {
    const width = (key) => (keyed[key] ? Math.min(100, (row[keyed[key].at] || 0) / scale * 100) : 0);
    const segments = ["python", "native", "system"]
      .map((key) => `<span class="hl-${key}" style="width:${width(key).toFixed(2)}%"></span>`).join("");
    const gil = width("gil");
    return `<div class="hl-time-bar">${segments}</div>`
      + (gil > 0 ? `<div class="hl-gil-bar" style="width:${gil.toFixed(2)}%"></div>` : "");
  }
  const barColumn = (scale) => ({ header: "time", type: "bar", key: "bar", sortValue: timeOf,
    cell: (row) => bar(row, scale), legend: "Python, native and system time against the busiest row's" });

  const lineColumns = [
    { header: "Line", type: "int", key: "line", at: 0 },
    barColumn(lineScale),
    ...measureColumns,
    { header: "Source", type: "source", key: "source", at: 1 },
  ];
  const functionColumns = [
    { header: "Function", type: "text", key: "name", at: 1 },
    { header: "Line", type: "int", key: "line", at: 0 },
    barColumn(functionScale),
    ...measureColumns,
  ];

  function makeTable(kind, columns, rows, sort) {
    return { kind, columns, rows, sort };
  }

  function headerHtml(table) {
    return table.columns.map((column, i) => {
      const sortable = column.sortValue || SORT_VALUES[column.type];
      const order = table.sort && table.sort.column === i ? (table.sort.descending ? "descending" : "ascending") : "none";
      const attributes = sortable ? ` data-column="${i}" aria-sort="${order}" tabindex="0"` : "";
      return `<th class="hl-t-${column.type}${KEY_CLASSES.has(column.key) ? " hl-key-" + column.key : ""}"${attributes} title="${escapeHtml(column.legend || "")}">${escapeHtml(column.header)}</th>`;
    }).join("");
  }

  function cellHtml(column, row) {
    const content = column.cell ? column.cell(row) : FORMATS[column.type](row[column.at]);
    const title = column.type === "source" ? ` title="${content}"` : "";
    return `<td class="hl-t-${column.type}${KEY_CLASSES.has(column.key) ? " hl-key-" + column.key : ""}"${title}>${content}</td>`;
  }

  function sortedRows(table, rows) {
    if (!table.sort) return rows;
    const column = table.columns[table.sort.column];
    const valueOf = column.sortValue || ((row) => SORT_VALUES[column.type](row[column.at]));
    const keyedRows = rows.map((row, i) => [valueOf(row), i, row]);
    const sign = table.sort.descending ? -1 : 1;
    keyedRows.sort((a, b) => sign * compare(a[0], b[0]) || a[1] - b[1]);
    return keyedRows.map((item) => item[2]);
  }

  function tableHtml(table, rows) {
    return `<table class="hl-table hl-${table.kind}-table"><thead><tr>${headerHtml(table)}</tr></thead>`
      + `<tbody>${bodyHtml(table, rows)}</tbody></table>`;
  }

  function bodyHtml(table, rows) {
    return sortedRows(table, rows)
      .map((row) => `<tr class="hl-${table.kind}">${table.columns.map((column) => cellHtml(column, row)).join("")}</tr>`)
      .join("");
  }

  // ---- what the reduced toggle and the search box keep ----
  function shownRows(file, rows) {
    let kept = state.reduced ? rows.filter((row) => row[row.length - 1] === 1) : rows;
    if (state.query && !file.path.toLowerCase().includes(state.query) && !file.shown.toLowerCase().includes(state.query)) {
      kept = kept.filter((row) => String(row[1]).toLowerCase().includes(state.query));
    }
    return kept;
  }

  // ---- the page ----
  function headerSection() {
    const facts = data.facts.map(([label, text]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(text)}</dd>`).join("");
    const args = data.args ? ` <span class="hl-args">${escapeHtml(data.args)}</span>` : "";
    const notes = data.notes.map(([kind, text]) => {
      const prefix = { message: "Note: ", warning: "Warning: ", gpu: "GPU: ", scope: "" }[kind];
      return `<p class="hl-note hl-${kind}">${escapeHtml(prefix + text)}</p>`;
    }).join("");
    return `<header class="hl-header"><h1><span class="hl-brand">heatline</span> profile of <code>${escapeHtml(data.program)}</code>${args}</h1>`
      + `${notes}<dl class="hl-facts">${facts}</dl></header>`;
  }

  function footprintChart(footprint, kind) {
    const width = 1000, height = 200;
    const top = footprint.points.reduce((most, point) => Math.max(most, point[1]), 1e-9);
    const x = (t) => (t / footprint.end * width).toFixed(1);
    const y = (mb) => (height - mb / top * (height - 12)).toFixed(1);
    let path = `M0 ${height}`;
    for (const [t, mb] of footprint.points) path += `H${x(t)}V${y(mb)}`;
    path += `H${width}V${height}Z`;
    let peak = "", caption = "";
    if (footprint.peak) {
      const px = x(footprint.peak.t), py = y(footprint.peak.mb);
      peak = `<line class="hl-peak-rule" x1="${px}" y1="${height}" x2="${px}" y2="${py}"/>`
        + `<line class="hl-peak" x1="${px}" y1="${py}" x2="${px}" y2="${py}"/>`;
      caption = `<figcaption><span class="hl-peak-key"></span> ${escapeHtml(footprint.peak.label)}</figcaption>`;
    }
    return `<figure class="${kind}"><h2>${escapeHtml(footprint.title)}</h2>`
      + `<div class="hl-chart"><span class="hl-axis hl-axis-top">${escapeHtml(footprint.top)}</span>`
      + `<svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(footprint.label)}">`
      + `<path class="hl-area" d="${path}"/>${peak}</svg>`
      + `<span class="hl-axis hl-axis-start">0</span><span class="hl-axis hl-axis-end">${escapeHtml(footprint.elapsed)}</span></div>`
      + `${caption}</figure>`;
  }

  const summaryTables = data.summaries.map((summary) => makeTable("summary",
    summary.columns.map((column, i) => ({ ...column, at: i })), summary.rows, null));

  function overviewSection() {
    const parts = [];
    if (data.footprint) parts.push(footprintChart(data.footprint, "hl-footprint"));
    if (data.gpuFootprint) parts.push(footprintChart(data.gpuFootprint, "hl-footprint hl-gpu-footprint"));
    data.summaries.forEach((summary, i) => {
      parts.push(`<section class="hl-summary${summary.alarm ? " hl-alarm" : ""}" data-summary="${i}"><h2>${escapeHtml(summary.title)}</h2>`
        + `<div class="hl-scroll">${tableHtml(summaryTables[i], summaryTables[i].rows)}</div>`
        + `${summary.more ? `<p class="hl-more">${escapeHtml(summary.more)}</p>` : ""}</section>`);
    });
    return parts.length ? `<div class="hl-overview">${parts.join("")}</div>` : "";
  }

  function processesSection() {
    if (!data.processes) return "";
    const table = makeTable("process", data.processes.columns.map((column, i) => ({ ...column, at: i })), data.processes.rows, null);
    summaryTables.push(table);
    // Many processes (a pool's workers) start folded, as the summary of the run they are.
    const open = table.rows.length <= FOLDED_PROCESSES ? " open" : "";
    return `<details class="hl-processes" data-summary="${summaryTables.length - 1}"${open}>`
      + `<summary><h2>Processes (${table.rows.length})</h2></summary>`
      + `<div class="hl-scroll">${tableHtml(table, table.rows)}</div></details>`;
  }

  function toolbar() {
    return `<div class="hl-toolbar">`
      + `<input type="search" class="hl-search" placeholder="Search file path or source" aria-label="search file path or source">`
      + `<label class="hl-toggle" title="${escapeHtml(data.reducedNote)}"><input type="checkbox" class="hl-reduced"${data.reduced ? " checked" : ""}> reduced profile</label>`
      + `<button type="button" class="hl-unfold-all">unfold all</button><button type="button" class="hl-fold-all">fold all</button>`
      + `<span class="hl-count"></span></div>`;
  }

  const fileViews = data.files.map((file, i) => ({
    file, index: i, drawn: false,
    lines: makeTable("line", lineColumns, file.lines, { column: 0, descending: false }),
    functions: makeTable("function", functionColumns, file.functions, null),
  }));

  // A file's height before it is laid out: a summary, two table headers and the rows.
  const ROW_PX = 21, FILE_PX = 36, TABLES_PX = 80;
  function fileSection(view, open) {
    const height = open ? FILE_PX + TABLES_PX + ROW_PX * (view.file.lines.length + view.file.functions.length) : FILE_PX;
    return `<details class="hl-file" data-file="${view.index}"${open ? " open" : ""} style="contain-intrinsic-size: auto ${height}px">`
      + `<summary><code class="hl-path">${escapeHtml(view.file.shown)}</code> <span class="hl-file-summary">${escapeHtml(view.file.summary)}</span> <span class="hl-file-count"></span></summary>`
      + `<div class="hl-file-body"></div></details>`;
  }

  function drawFile(view) {
    const element = root.querySelector(`details.hl-file[data-file="${view.index}"]`);
    const lines = shownRows(view.file, view.lines.rows);
    const functions = shownRows(view.file, view.functions.rows);
    element.hidden = lines.length + functions.length === 0;
    element.querySelector(".hl-file-count").textContent = countText(lines.length, view.file.lines.length, "line")
      + (view.file.functions.length ? ", " + countText(functions.length, view.file.functions.length, "function") : "");
    if (!element.open) { view.drawn = false; return; }
    let body = "";
    if (lines.length) body += `<div class="hl-scroll">${tableHtml(view.lines, lines)}</div>`;
    if (functions.length) body += `<h3>Functions</h3><div class="hl-scroll">${tableHtml(view.functions, functions)}</div>`;
    element.querySelector(".hl-file-body").innerHTML = body;
    view.drawn = true;
  }

  const countText = (shown, all, noun) => (shown === all ? `${all} ${noun}${all === 1 ? "" : "s"}` : `${shown} of ${all} ${noun}s`);

  function drawFiles() {
    let shownFiles = 0;
    for (const view of fileViews) {
      drawFile(view);
      if (!root.querySelector(`details.hl-file[data-file="${view.index}"]`).hidden) shownFiles++;
    }
    root.querySelector(".hl-count").textContent = `${shownFiles} of ${fileViews.length} file${fileViews.length === 1 ? "" : "s"}`;
  }

  function legendSection() {
    const rows = data.legend.map(([term, text]) => (term
      ? `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(text)}</dd>` : `<dd class="hl-legend-note">${escapeHtml(text)}</dd>`)).join("");
    return `<section class="hl-legend"><h2>Legend</h2><dl>${rows}</dl></section>`;
  }

  let openRows = 0;
  const opened = fileViews.map((view, i) => {
    const open = i === 0 || openRows + view.file.lines.length + view.file.functions.length <= OPEN_ROWS;
    if (open) openRows += view.file.lines.length + view.file.functions.length;
    return open;
  });
  const files = fileViews.length
    ? `${toolbar()}<div class="hl-files">${fileViews.map((view, i) => fileSection(view, opened[i])).join("")}</div>${legendSection()}`
    : "";
  const page = document.createElement("div");
  page.className = "hl-page";
  const flame = data.flame ? `<section class="hl-flame"></section>` : "";
  page.innerHTML = headerSection() + processesSection() + overviewSection() + flame + files;
  root.appendChild(page);
  if (data.flame) heatlineFlame(page.querySelector("section.hl-flame"), data.flame, escapeHtml);
  if (fileViews.length) drawFiles();

  // ---- interaction ----
  function tableOf(th) {
    const summary = th.closest("[data-summary]");
    if (summary) return { table: summaryTables[+summary.dataset.summary], redraw: (table) => {
      summary.querySelector("table").outerHTML = tableHtml(table, table.rows);
    } };
    const view = fileViews[+th.closest("details.hl-file").dataset.file];
    return { table: th.closest("table").classList.contains("hl-function-table") ? view.functions : view.lines,
      redraw: () => drawFile(view) };
  }

  function sortBy(th) {
    const { table, redraw } = tableOf(th);
    const column = +th.dataset.column;
    if (table.sort && table.sort.column === column) {
      table.sort = { column, descending: !table.sort.descending };
    } else {
      table.sort = { column, descending: !ASCENDING_FIRST.has(table.columns[column].type) };
    }
    redraw(table);
  }

  root.addEventListener("click", (event) => {
    const th = event.target.closest("th[data-column]");
    if (th && root.contains(th)) sortBy(th);
    if (event.target.closest(".hl-unfold-all")) setAllOpen(true);
    if (event.target.closest(".hl-fold-all")) setAllOpen(false);
  });
  root.addEventListener("keydown", (event) => {
    const th = event.target.closest && event.target.closest("th[data-column]");
    if (th && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); sortBy(th); }
  });
  // The toggle event does not bubble: listen in the capture phase.
  root.addEventListener("toggle", (event) => {
    const element = event.target;
    if (element.matches && element.matches("details.hl-file") && element.open) {
      const view = fileViews[+element.dataset.file];
      if (!view.drawn) drawFile(view);
    }
  }, true);

  function setAllOpen(open) {
    for (const element of root.querySelectorAll("details.hl-file")) element.open = open;
  }

  const reducedBox = root.querySelector(".hl-reduced");
  if (reducedBox) reducedBox.addEventListener("change", () => { state.reduced = reducedBox.checked; drawFiles(); });
  const search = root.querySelector(".hl-search");
  let pending = null;
  if (search) search.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => { state.query = search.value.trim().toLowerCase(); drawFiles(); }, 120);
  });

  if (window.performance && performance.mark) performance.mark("heatline-rows-rendered");
}
