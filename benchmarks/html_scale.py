"""How the HTML report scales: file size and time to first paint for big profiles, and the
flame graph's for many stacks.

Builds synthetic documents of 1,000, 5,000 and 20,000 profiled lines from a real one (the lines
of examples/demo.py's profile, or of --document, repeated over files of 200 lines each, with a
function every 20 lines; their times divided among the copies, so percentages stay what a real
profile's are), renders each with render_html (timed, in this process), opens it in headless Chromium and reads the
Performance API: first paint, first contentful paint, DOMContentLoaded, and the mark report.js
sets when its rows are in the DOM (files are drawn open, biggest first, until 2,000 rows; the
rest when unfolded). "unfold all" is the time to draw every row of every file after a click on
that button. Each figure is the median of --repetitions page loads.

The flame graph's table: documents of 1,000, 5,000 and 20,000 distinct stacks (--stacks), each
a walk down a call tree of 2,000 functions in 100 files that shares its outer frames with an
earlier stack, as a program's do (at most 64 frames; 21 on average and 56 at most for 20,000
stacks), with time and memory. It gives
render_html's time, the file's size, when the flame graph is drawn (the mark flame.js sets once
its tree is built and drawn, from the start of the page's load), the frames drawn, and the time
to redraw it for another view and to zoom into a frame (a click each, with its layout).

Usage: python3 benchmarks/html_scale.py [--lines 1000,5000,20000] [--stacks 1000,5000,20000]
                                        [--document p.json]
Run it with the Python that has heatline installed with its views-test extra (.venv's).
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from browser import headless_chromium

from heatline.report import render_html

REPO_ROOT = Path(__file__).resolve().parent.parent
LINES_PER_FILE = 200
FUNCTION_EVERY = 20
KINDS = ("python", "native", "system", "gil_wait")
STACK_FUNCTIONS = 2000
STACK_FILES = 100
STACK_MAX_DEPTH = 64


def real_document(path: str | None) -> dict[str, Any]:
    if path:
        return json.loads(Path(path).read_text())
    with tempfile.TemporaryDirectory() as directory:
        outfile = Path(directory) / "demo.json"
        heatline = Path(sys.executable).parent / "heatline"
        subprocess.run([str(heatline), "--json", "--outfile", str(outfile), str(REPO_ROOT / "examples/demo.py")],
                       check=True, capture_output=True)
        return json.loads(outfile.read_text())


def synthetic_document(real: dict[str, Any], line_count: int) -> dict[str, Any]:
    """`line_count` lines over files of LINES_PER_FILE, each a copy of one of `real`'s lines."""
    templates = [line for file in real["files"].values() for line in file["lines"]]
    function_templates = [function for file in real["files"].values() for function in file["functions"]]
    copies = line_count / len(templates)
    doc = copy.deepcopy(real)
    doc["files"] = {}
    total_s = sum(real["totals"][f"{kind}_s"] for kind in KINDS[:3])
    for number in range(0, line_count, LINES_PER_FILE):
        count = min(LINES_PER_FILE, line_count - number)
        lines = [_scaled(templates[(number + i) % len(templates)], copies, total_s, line=i + 1)
                 for i in range(count)]
        functions = [_scaled(function_templates[i // FUNCTION_EVERY % len(function_templates)],
                             copies * FUNCTION_EVERY / len(function_templates), total_s, line=i + 1)
                     for i in range(0, count, FUNCTION_EVERY)]
        seconds = {f"{kind}_s": sum(line[f"{kind}_s"] for line in lines) for kind in KINDS}
        doc["files"][f"/synthetic/package_{number // LINES_PER_FILE:03d}/module.py"] = {
            "percent": sum(seconds[f"{kind}_s"] for kind in KINDS[:3]) / total_s * 100 if total_s else 0.0,
            **seconds, "lines": lines, "functions": functions,
        }
    return doc


def _scaled(entry: dict[str, Any], copies: float, total_s: float, **changes: Any) -> dict[str, Any]:
    scaled = {**entry, **changes}
    for kind in KINDS:
        scaled[f"{kind}_s"] = entry[f"{kind}_s"] / copies
        scaled[f"{kind}_percent"] = scaled[f"{kind}_s"] / total_s * 100 if total_s else 0.0
    for field in ("alloc_mb", "copy_mb", "copy_mb_s"):
        if entry.get(field) is not None:
            scaled[field] = entry[field] / copies
    return scaled


def synthetic_stacks(real: dict[str, Any], stack_count: int) -> dict[str, Any]:
    """`real` with `stack_count` distinct stacks, made as the module's docstring says (the same
    ones every run: the generator is seeded). Each stack's time is a share of `real`'s total."""
    rng = random.Random(stack_count)
    frames = [{"function": f"function_{i}", "file": f"/synthetic/package_{i % STACK_FILES:03d}/module.py",
               "line": 10 + i % 90, "first_line": 5 + i % 90, "program": i % 3 == 0}
              for i in range(STACK_FUNCTIONS)]
    paths = [(0,)]
    seen = set(paths)
    while len(paths) < stack_count:
        base = rng.choice(paths)
        kept = rng.randint(max(1, len(base) - 3), len(base))
        path = base[:kept] + tuple(rng.randrange(STACK_FUNCTIONS) for _ in range(rng.randint(1, 6)))
        if len(path) <= STACK_MAX_DEPTH and path not in seen:
            seen.add(path)
            paths.append(path)
    total_s = sum(real["totals"][f"{kind}_s"] for kind in KINDS[:3])
    stacks = []
    for path in paths:
        seconds = [rng.expovariate(1.0) * total_s / stack_count for _ in KINDS[:3]]
        stacks.append({"frames": list(path), "samples": 1, "python_s": seconds[0], "native_s": seconds[1],
                       "system_s": seconds[2], "gil_wait_s": 0.0, "alloc_mb": rng.expovariate(1.0),
                       "copy_mb": 0.0, "peak_mb": rng.expovariate(1.0) if rng.random() < 0.1 else 0.0})
    doc = copy.deepcopy(real)
    doc["stacks"] = {**real.get("stacks", {}), "frames": frames, "stacks": stacks}
    return doc


_TIMINGS = """
const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
const navigation = performance.getEntriesByType('navigation')[0];
const rows = performance.getEntriesByName('heatline-rows-rendered')[0];
return {firstPaint: paint['first-paint'], firstContentfulPaint: paint['first-contentful-paint'],
        domContentLoaded: navigation.domContentLoadedEventEnd, rowsRendered: rows ? rows.startTime : null,
        rowsDrawn: document.querySelectorAll('tr.hl-line, tr.hl-function').length};
"""

_UNFOLD_ALL = """
const done = arguments[arguments.length - 1];
const started = performance.now();
document.querySelector('.hl-unfold-all').click();
// The toggle events that draw the files are queued tasks: wait for them, then for a frame.
setTimeout(() => requestAnimationFrame(() => setTimeout(() => done({
    ms: performance.now() - started,
    rows: document.querySelectorAll('tr.hl-line, tr.hl-function').length}), 0)), 0);
"""


def measure(driver: Any, page: Path, repetitions: int) -> dict[str, float]:
    loads = []
    unfolds = []
    for _ in range(repetitions):
        driver.get(page.as_uri())
        # Paint entries are recorded once the frame is presented: give the page that frame.
        driver.execute_async_script("const done = arguments[0]; requestAnimationFrame(() => setTimeout(done, 50));")
        loads.append(driver.execute_script(_TIMINGS))
        unfolds.append(driver.execute_async_script(_UNFOLD_ALL))
    figures = {key: statistics.median(load[key] for load in loads) for key in loads[0]}
    figures["unfoldAll"] = statistics.median(unfold["ms"] for unfold in unfolds)
    figures["rowsAll"] = unfolds[0]["rows"]
    return figures


_FLAME_TIMINGS = """
const mark = performance.getEntriesByName('heatline-flame-drawn')[0];
const chart = document.querySelector('.hl-flame-chart');
const frames = chart.querySelectorAll('.hl-frame').length;
// A click's time includes the layout of what it drew (reading a size forces it).
const clicked = (element) => {
    const started = performance.now();
    element.click();
    chart.getBoundingClientRect();
    return performance.now() - started;
};
const switchView = clicked(document.querySelector('.hl-flame-view[data-view="alloc"]'));
const zoom = clicked(chart.querySelectorAll('.hl-frame')[3]);
return {drawn: mark.startTime, frames, switchView, zoom};
"""


def measure_flame(driver: Any, page: Path, repetitions: int) -> dict[str, float]:
    loads = []
    for _ in range(repetitions):
        driver.get(page.as_uri())
        loads.append(driver.execute_script(_FLAME_TIMINGS))
    return {key: statistics.median(load[key] for load in loads) for key in loads[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 5000, 20000])
    parser.add_argument("--stacks", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 5000, 20000])
    parser.add_argument("--document", help="a profile document to build from (default: profile examples/demo.py)")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    real = real_document(args.document)
    driver = headless_chromium()
    try:
        with tempfile.TemporaryDirectory() as directory:
            print("profiled lines   render_html   size MB   first paint   first contentful   DOMContentLoaded"
                  "   rows rendered (rows)   unfold all (rows)")
            for count in args.lines:
                page = Path(directory) / f"report-{count}.html"
                doc = synthetic_document(real, count)
                started = time.perf_counter()
                with open(page, "w", encoding="utf-8") as out:
                    render_html(doc, out)
                render_s = time.perf_counter() - started
                size_mb = page.stat().st_size / 2**20
                f = measure(driver, page, args.repetitions)
                print(f"{count:>14,}  {render_s * 1e3:>8.0f} ms  {size_mb:>8.2f}  {f['firstPaint']:>9.0f} ms  {f['firstContentfulPaint']:>13.0f} ms"
                      f"  {f['domContentLoaded']:>14.0f} ms  {f['rowsRendered']:>9.0f} ms ({f['rowsDrawn']:>5.0f})"
                      f"  {f['unfoldAll']:>7.0f} ms ({f['rowsAll']})")
            print("\n        stacks   render_html   size MB   flame graph drawn   frames drawn   switch view   zoom")
            for count in args.stacks:
                page = Path(directory) / f"stacks-{count}.html"
                doc = synthetic_stacks(real, count)
                started = time.perf_counter()
                with open(page, "w", encoding="utf-8") as out:
                    render_html(doc, out)
                render_s = time.perf_counter() - started
                size_mb = page.stat().st_size / 2**20
                f = measure_flame(driver, page, args.repetitions)
                print(f"{count:>14,}  {render_s * 1e3:>8.0f} ms  {size_mb:>8.2f}  {f['drawn']:>15.0f} ms"
                      f"  {f['frames']:>13.0f}  {f['switchView']:>9.0f} ms  {f['zoom']:>3.0f} ms")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
