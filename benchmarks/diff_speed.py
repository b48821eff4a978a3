"""How long `heatline diff` takes on large documents: the model (diff_documents), its text and
its HTML page, for files of many measured lines.

Documents are made up (no profiling): one file of N measured lines, each a distinct statement,
against a second version where the edit is one of:

  edit 1 in 10   every tenth line's text changed a little (paired as edited)
  insert         N/10 new lines spread over the file (every line after them moves)
  rewrite        every line's text different (nothing matches; the worst case of pairing)

Each cell is the best of REPEAT runs, in milliseconds, on this machine; run with the venv's
python: .venv/bin/python benchmarks/diff_speed.py
"""

from __future__ import annotations

import io
import time
from typing import Any, Callable

from heatline import report

SIZES = (100, 1000, 5000)
REPEAT = 3
FIELDS_ZERO = ("native_s", "system_s", "gil_wait_s", "copy_mb", "copy_mb_s", "avg_mb")


def line(number: int, source: str, python_s: float) -> dict[str, Any]:
    entry = {"line": number, "source": source, "python_s": python_s, "alloc_mb": python_s * 10,
             "peak_mb": python_s, "python_alloc_fraction": 1.0, "timeline": None, "leak": None,
             "gpu_percent": None, "gpu_mem_avg_mb": None, "gpu_mem_peak_mb": None, "processes": [1]}
    entry.update({field: 0.0 for field in FIELDS_ZERO})
    for kind in ("python", "native", "system", "gil_wait"):
        entry[f"{kind}_percent"] = entry[f"{kind}_s"]
    return entry


def document(lines: list[dict[str, Any]]) -> dict[str, Any]:
    total_s = sum(entry["python_s"] for entry in lines)
    return {
        "schema": "heatline-profile/1", "program": "/bench/prog.py", "argv": ["prog.py"],
        "python_version": "3.11.7", "heatline_version": "0.1.0", "elapsed_s": total_s,
        "cpu_sampling_interval_s": 0.005, "memory_sampling_rate_bytes": 1048576,
        "gpu": {"available": False, "device": None, "per_process": False},
        "samples": {"cpu": 1, "dropped": 0, "memory": 1, "memory_dropped": 0}, "message": None,
        "totals": {"python_s": total_s, "native_s": 0.0, "system_s": 0.0, "gil_wait_s": 0.0,
                   "outside_program_s": 0.0, "unattributed_cpu_s": 0.0, "alloc_mb": total_s * 10,
                   "python_alloc_fraction": 1.0, "peak_mb": total_s, "copy_mb": 0.0, "gpu_percent": None},
        "timeline": [], "memory_peak": None, "processes": [], "threads": [], "profiled_functions": None,
        "warnings": [],
        "files": {"/bench/prog.py": {"percent": 100.0, "python_s": total_s, "native_s": 0.0, "system_s": 0.0,
                                     "gil_wait_s": 0.0, "lines": lines, "functions": []}},
    }


def original(size: int) -> list[dict[str, Any]]:
    return [line(number, f"    value_{number} = compute(value_{number - 1}, {number % 7})", 0.01 + number % 5 / 100)
            for number in range(1, size + 1)]


def edit_one_in_ten(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line(entry["line"], entry["source"].replace("compute", "compute_fast") if entry["line"] % 10 == 0
                 else entry["source"], entry["python_s"] / 2) for entry in lines]


def insert(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    edited = []
    for entry in lines:
        if entry["line"] % 10 == 0:
            edited.append(line(len(edited) + 1, f"    log.debug('step {entry['line']}')", 0.01))
        edited.append(line(len(edited) + 1, entry["source"], entry["python_s"]))
    return edited


def rewrite(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line(entry["line"], f"    result[{entry['line']}] = other_{entry['line'] * 31 % 97}()", 0.02)
            for entry in lines]


def best_ms(action: Callable[[], Any]) -> float:
    timings = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return min(timings)


def main() -> None:
    edits = {"edit 1 in 10": edit_one_in_ten, "insert": insert, "rewrite": rewrite}
    print(f"{'lines':>6}  {'edit':<13} {'model ms':>9} {'text ms':>8} {'html ms':>8}  rows changed")
    for size in SIZES:
        lines = original(size)
        for name, edit in edits.items():
            before, after = document(lines), document(edit(lines))
            diff = report.diff_documents(before, after)
            model_ms = best_ms(lambda: report.diff_documents(before, after))
            text_ms = best_ms(lambda: report.render_diff_text(diff, io.StringIO(), color=False, width=120))
            html_ms = best_ms(lambda: report.render_diff_html(diff, io.StringIO()))
            changed = sum(row["changed"] for row in diff["files"][0]["lines"])
            print(f"{size:>6}  {name:<13} {model_ms:>9.1f} {text_ms:>8.1f} {html_ms:>8.1f}  {changed}")


if __name__ == "__main__":
    main()
