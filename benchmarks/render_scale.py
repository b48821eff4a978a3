"""How the text report scales: the time to render big profiles as text, in full and reduced.

Builds the synthetic documents of benchmarks/html_scale.py (the lines of examples/demo.py's
profile, or of --document, repeated over files of 200 lines each, a function every 20 lines) and
renders each with heatline.report.render_text, as the command does after a run (plain, 100
columns), --repetitions times, in this process. Prints, per document size, the median time of
the full report and of the reduced one (--reduced-profile), the lines each printed, and the
profiled lines the reduced profile kept. Every copy of a line keeps the line's peak MB, so the
reduced profile keeps many of them; the last row is the biggest document made to keep 100
lines: those 100 each with 1% of the time, the others with none, and no peak memory anywhere.

Usage: python3 benchmarks/render_scale.py [--lines 1000,5000,20000] [--document p.json]
Run it with the Python that has heatline installed (.venv's).
"""

from __future__ import annotations

import argparse
import copy
import io
import statistics
import time

from html_scale import real_document, synthetic_document

from heatline.report import render_text, visible
from heatline.report.document import line_count

COLUMNS = 100
KEPT_LINES = 100


def timed(doc: dict, reduced: bool, repetitions: int) -> tuple[float, int]:
    """The median seconds of render_text over `repetitions`, and the lines it printed."""
    seconds = []
    for _ in range(repetitions):
        out = io.StringIO()
        started = time.perf_counter()
        render_text(doc, out, color=False, reduced=reduced, width=COLUMNS)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), out.getvalue().count("\n")


def concentrated(doc: dict, kept: int) -> dict:
    """`doc` with `kept` lines, evenly spread, at 1% of the time each and every other line and
    function at none; no line holds memory at the peak."""
    doc = copy.deepcopy(doc)
    entries = [entry for file in doc["files"].values() for entry in file["lines"] + file["functions"]]
    lines = [line for file in doc["files"].values() for line in file["lines"]]
    chosen = {id(line) for line in lines[::max(len(lines) // kept, 1)][:kept]}
    total_s = sum(doc["totals"][f"{kind}_s"] for kind in ("python", "native", "system"))
    for entry in entries:
        share = 1.0 if id(entry) in chosen else 0.0
        for kind in ("python", "native", "system", "gil_wait"):
            entry[f"{kind}_percent"] = share if kind == "python" else 0.0
            entry[f"{kind}_s"] = share / 100 * total_s if kind == "python" else 0.0
        for field in ("alloc_mb", "transient_mb", "transient_python_mb", "peak_mb", "avg_mb", "copy_mb", "copy_mb_s"):
            if entry.get(field) is not None:
                entry[field] = 0.0
        entry["leak"] = None
    return doc


def row(label: str, doc: dict, repetitions: int) -> str:
    full_s, full_printed = timed(doc, False, repetitions)
    reduced_s, reduced_printed = timed(doc, True, repetitions)
    kept = line_count(visible(doc, reduced=True))
    return (f"| {label} | {full_s * 1e3:,.0f} ms | {full_printed:,} | {reduced_s * 1e3:,.0f} ms | {kept:,}"
            f" | {reduced_printed:,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 5000, 20000])
    parser.add_argument("--document", help="a profile document to build from (default: profile examples/demo.py)")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    real = real_document(args.document)
    print("| profiled lines | text report | lines printed | reduced report | lines kept | lines printed |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in args.lines:
        print(row(f"{count:,}", synthetic_document(real, count), args.repetitions))
    biggest = max(args.lines)
    print(row(f"{biggest:,}, {KEPT_LINES} significant", concentrated(synthetic_document(real, biggest), KEPT_LINES),
              args.repetitions))


if __name__ == "__main__":
    main()
