"""Accuracy benchmark (issue 3): how far heatline's and Scalene's attributions are from the truth.

Each program in benchmarks/workloads/truth/ measures its own ground truth while it runs (CPU
clock or wall clock around each measured line, exact byte counts) and writes it to a JSON file;
its measured lines carry a "# truth: NAME" comment. The program runs under each profiler, and the
profile's numbers for those lines are compared with the truth of the same run:

  line shares  each line's time as a share of the measured lines' total; error = the worst
               line's difference from its true share, in percentage points
  split cells  the same with python, native and system time as separate cells per line
  MB           per line; error = the worst line's difference in percent of its true MB
  fraction     Python's share of a line's allocations; error in percentage points
  leaks        the number of lines wrongly flagged or wrongly not flagged as leaking
  child s      CPU seconds of a line run by Pool workers (child processes), summed over them;
               error in percent of the true seconds

CPU rows run both profilers with --cpu-only, memory rows in their full mode. The median error
over the repetitions goes to the table on stdout; everything to benchmarks/results/accuracy-*.json.
With --baseline REF, heatline as of git ref REF runs too, as "heatline@REF", interleaved with the
others: before and after from one run (`benchmarks/report.py --compare` prints them side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import benchenv

TRUTH_DIR = benchenv.WORKLOADS_DIR / "truth"
# The leak likelihood from which a line counts as flagged: Scalene's own reporting threshold.
LEAK_LIKELIHOOD = 0.95
CATEGORIES = ("python", "native", "system")


@dataclass(frozen=True)
class Row:
    name: str
    program: str
    kind: str       # a key of SCORERS
    memory: bool    # needs memory profiling: both profilers run in full mode
    args: tuple[str, ...] = ()  # the program's arguments after its truth file


ROWS = [
    Row("Python vs native split (3 lines)", "truth_split.py", "split", False),
    Row("per-line shares in one function (4 lines)", "truth_lines.py", "shares", False),
    Row("threads (3 threads, one line each)", "truth_threads.py", "shares", False),
    Row("blocked time: compute, sleep, select", "truth_blocked.py", "shares", False),
    Row("allocated MB per line (3 lines)", "truth_alloc.py", "alloc_mb", True),
    Row("Python/native memory split (2 lines)", "truth_memsplit.py", "python_fraction", True),
    Row("copy volume per line (2 lines)", "truth_copy.py", "copy_mb", True),
    Row("leak (1 leaking line, 1 clean)", "truth_leak.py", "leak", True),
    Row("child processes: Pool(8) workers, fork", "truth_pool_burn.py", "cpu_s", False, ("fork",)),
    Row("child processes: Pool(8) workers, spawn", "truth_pool_burn.py", "cpu_s", False, ("spawn",)),
    Row("child processes: Pool(8) workers, forkserver", "truth_pool_burn.py", "cpu_s", False, ("forkserver",)),
]
UNITS = {"split": "points", "shares": "points", "alloc_mb": "% of MB", "python_fraction": "points",
         "copy_mb": "% of MB", "leak": "wrong lines", "cpu_s": "% of s"}

# Per line of the profiled program: python/native/system time (any unit: only shares are used),
# cpu_s (seconds of Python and native time), alloc_mb, python_fraction, copy_mb, leak (bool). A
# value the profiler did not measure is None.
LineData = dict[int, dict[str, Any]]


def truth_markers(program: Path) -> dict[str, int]:
    """Line number of each '# truth: NAME' comment in the program."""
    markers = {}
    for number, text in enumerate(program.read_text().splitlines(), start=1):
        match = re.search(r"# truth: (\w+)", text)
        if match:
            markers[match.group(1)] = number
    return markers


def _file_entry(files: dict[str, dict], program: Path) -> dict:
    for path, entry in files.items():
        if Path(path).resolve() == program.resolve():
            return entry
    return {"lines": []}


def heatline_command(executable: Path) -> Callable[[Path, Path, Path, bool, tuple[str, ...]], list[str]]:
    def command(program: Path, truth: Path, profile: Path, memory: bool, args: tuple[str, ...]) -> list[str]:
        mode = [] if memory else ["--cpu-only"]
        return [str(executable), *mode, "--json", "--outfile", str(profile), str(program), str(truth), *args]
    return command


def read_heatline(profile: Path, program: Path) -> LineData:
    document = json.loads(profile.read_text())
    memory = document.get("memory_sampling_rate_bytes") is not None
    lines: LineData = {}
    for line in _file_entry(document.get("files", {}), program)["lines"]:
        leak = line.get("leak")
        lines[line["line"]] = {
            "python": line["python_s"], "native": line["native_s"], "system": line["system_s"],
            "cpu_s": line["python_s"] + line["native_s"],
            "alloc_mb": line.get("alloc_mb"), "python_fraction": line.get("python_alloc_fraction"),
            "copy_mb": line.get("copy_mb"),
            "leak": (leak is not None and leak.get("likelihood", 0) >= LEAK_LIKELIHOOD) if memory else None,
        }
    return lines


def scalene_command(program: Path, truth: Path, profile: Path, memory: bool, args: tuple[str, ...]) -> list[str]:
    mode = [] if memory else ["--cpu-only"]
    return [str(benchenv.venv_bin("scalene")), "run", *mode, "-o", str(profile), str(program), "---", str(truth),
            *args]


def read_scalene(profile: Path, program: Path) -> LineData:
    document = json.loads(profile.read_text())
    memory = bool(document.get("memory"))
    entry = _file_entry(document.get("files", {}), program)
    leaks = entry.get("leaks", {})
    elapsed_s = document.get("elapsed_time_sec", 0.0)
    lines: LineData = {}
    for line in entry["lines"]:
        number = line["lineno"]
        leak = leaks.get(str(number))
        lines[number] = {
            "python": line["n_cpu_percent_python"], "native": line["n_cpu_percent_c"], "system": line["n_sys_percent"],
            # Scalene gives percentages of the run's time; its seconds are those of the elapsed time.
            "cpu_s": (line["n_cpu_percent_python"] + line["n_cpu_percent_c"]) / 100 * elapsed_s,
            "alloc_mb": line["n_malloc_mb"] if memory else None,
            "python_fraction": line["n_python_fraction"] if memory else None,
            # Scalene reports a copy rate over the whole run.
            "copy_mb": line["n_copy_mb_s"] * elapsed_s if memory else None,
            "leak": (leak is not None and leak["likelihood"] >= LEAK_LIKELIHOOD) if memory else None,
        }
    return lines


@dataclass(frozen=True)
class Profiler:
    name: str
    command: Callable[[Path, Path, Path, bool, tuple[str, ...]], list[str]]
    read: Callable[[Path, Path], LineData]


PROFILERS = [Profiler("heatline", heatline_command(benchenv.venv_bin("heatline")), read_heatline),
             Profiler("scalene", scalene_command, read_scalene)]


def _line(measured: LineData, number: int) -> dict[str, Any]:
    return measured.get(number, {})


def _worst_share_error(truth_cells: Mapping[Any, float], measured_cells: Mapping[Any, float]) -> float:
    truth_total = sum(truth_cells.values())
    measured_total = sum(measured_cells.values()) or 1.0
    return 100 * max(abs(measured_cells[key] / measured_total - truth_cells[key] / truth_total) for key in truth_cells)


def score_shares(truth: dict, measured: LineData, markers: dict[str, int]) -> float:
    measured_cells = {name: sum(_line(measured, markers[name]).get(c) or 0.0 for c in CATEGORIES) for name in truth}
    return _worst_share_error(truth, measured_cells)


def score_split(truth: dict, measured: LineData, markers: dict[str, int]) -> float:
    truth_cells, measured_cells = {}, {}
    for name, seconds in truth.items():
        for category in CATEGORIES:
            truth_cells[name, category] = seconds.get(f"{category}_s", 0.0)
            measured_cells[name, category] = _line(measured, markers[name]).get(category) or 0.0
    return _worst_share_error(truth_cells, measured_cells)


def _score_per_line(field: str, relative: bool) -> Callable[[dict, LineData, dict[str, int]], float | None]:
    def score(truth: dict, measured: LineData, markers: dict[str, int]) -> float | None:
        if all(line.get(field) is None for line in measured.values()):
            return None
        errors = []
        for name, true_value in truth.items():
            value = _line(measured, markers[name]).get(field) or 0.0
            errors.append(100 * abs(value - true_value) / (true_value if relative else 1.0))
        return max(errors)
    return score


def score_leak(truth: dict, measured: LineData, markers: dict[str, int]) -> float | None:
    if all(line.get("leak") is None for line in measured.values()):
        return None
    return float(sum(bool(_line(measured, markers[name]).get("leak")) != leaking for name, leaking in truth.items()))


SCORERS: dict[str, Callable[[dict, LineData, dict[str, int]], float | None]] = {
    "split": score_split,
    "shares": score_shares,
    "alloc_mb": _score_per_line("alloc_mb", relative=True),
    "python_fraction": _score_per_line("python_fraction", relative=False),
    "copy_mb": _score_per_line("copy_mb", relative=True),
    "leak": score_leak,
    "cpu_s": _score_per_line("cpu_s", relative=True),
}


def run_once(row: Row, profiler: Profiler, timeout_s: float, scratch: Path) -> dict[str, Any]:
    """One profiled run of a truth program: its truth, what the profiler measured, the error."""
    program = TRUTH_DIR / row.program
    out = Path(tempfile.mkdtemp(dir=scratch))
    truth_path, profile_path = out / "truth.json", out / "profile.json"
    result = benchenv.run_measured(profiler.command(program, truth_path, profile_path, row.memory, row.args), out, timeout_s)
    try:
        if result.returncode != 0 or not truth_path.exists() or not profile_path.exists():
            reason = f"killed after {timeout_s:.0f} s" if result.timed_out else f"exit status {result.returncode}"
            return {"failure": f"{reason}: {result.stderr_tail.strip()[-600:]}"}
        markers = truth_markers(program)
        truth = json.loads(truth_path.read_text())["lines"]
        measured = profiler.read(profile_path, program)
        error = SCORERS[row.kind](truth, measured, markers)
        return {"error": None if error is None else round(error, 3), "truth": truth,
                "measured": {name: _line(measured, markers[name]) for name in truth}, "wall_s": round(result.wall_s, 2)}
    finally:
        shutil.rmtree(out)


def measure_row(row: Row, profilers: list[Profiler], repetitions: int, timeout_s: float,
                scratch: Path) -> dict[str, dict[str, Any]]:
    """Repetitions of the row, the profilers interleaved; the median error of each."""
    runs: dict[str, list[dict[str, Any]]] = {p.name: [] for p in profilers}
    for repetition in range(repetitions):
        progress = []
        for profiler in profilers:
            if any("failure" in run for run in runs[profiler.name]):
                continue
            run = run_once(row, profiler, timeout_s, scratch)
            runs[profiler.name].append(run)
            progress.append(f"{profiler.name} " + ("FAILED" if "failure" in run else f"error {run['error']}"))
        benchenv.log(f"{row.program} {repetition + 1}/{repetitions}: " + ", ".join(progress))
    results = {}
    for name, profiler_runs in runs.items():
        failures = [run["failure"] for run in profiler_runs if "failure" in run]
        errors = [run["error"] for run in profiler_runs if "failure" not in run]
        if failures:
            results[name] = {"failure": failures[0], "runs": profiler_runs}
        elif any(error is None for error in errors):
            results[name] = {"error_median": None, "note": "not measured", "runs": profiler_runs}
        else:
            results[name] = {"error_median": round(statistics.median(errors), 3), "runs": profiler_runs}
    return results


def format_error(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    if "failure" in result:
        return "FAIL"
    if result["error_median"] is None:
        return "not measured"
    return f"{result['error_median']:.1f}"


def print_table(rows: list[dict[str, Any]], profiler_names: list[str]) -> None:
    headers = ["accuracy row", "unit", *profiler_names]
    table = [[row["name"], row["unit"], *(format_error(row["results"].get(name)) for name in profiler_names)]
             for row in rows]
    widths = [max(len(line[i]) for line in [headers, *table]) for i in range(len(headers))]
    print("Error against the truth (median over the repetitions; lower is better)")
    for line in [headers, *table]:
        print("  ".join(cell.ljust(width) if i < 2 else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(line, widths))))
    for row in rows:
        for name, result in row["results"].items():
            if "failure" in result:
                print(f"{name} on {row['program']}: {result['failure']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=3, help="runs per row and profiler (default 3)")
    parser.add_argument("--rows", type=lambda s: s.split(","),
                        help="comma-separated program names of the rows to run (e.g. truth_split.py)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before one run is killed (default 300)")
    parser.add_argument("--profilers", type=lambda s: s.split(","),
                        help="comma-separated profilers to run (default: heatline,scalene)")
    parser.add_argument("--baseline", metavar="REF",
                        help="also run heatline as of git ref REF (built into benchmarks/.venv-bench-baseline, "
                             "cached by commit), as heatline@REF")
    args = parser.parse_args()

    rows = ROWS if args.rows is None else [row for row in ROWS if row.program in args.rows]
    if not rows:
        raise SystemExit(f"accuracy.py: no such row; the rows are {', '.join(row.program for row in ROWS)}")
    known = {profiler.name: profiler for profiler in PROFILERS}
    unknown = [name for name in args.profilers or [] if name not in known]
    if unknown:
        raise SystemExit(f"accuracy.py: unknown profiler {', '.join(unknown)}; the profilers are {', '.join(known)}")
    profilers = [known[name] for name in args.profilers] if args.profilers else list(PROFILERS)
    baseline = None
    if args.baseline:
        baseline = {"ref": args.baseline, "commit": benchenv.resolve_commit(args.baseline)}
        at = next((i + 1 for i, profiler in enumerate(profilers) if profiler.name == "heatline"), len(profilers))
        profilers.insert(at, Profiler(f"heatline@{args.baseline}", heatline_command(benchenv.baseline_bin("heatline")),
                                      read_heatline))
    benchenv.ensure_tools()
    heatline_problem = benchenv.ensure_heatline() if "heatline" in {p.name for p in profilers} else None
    baseline_problem = benchenv.ensure_baseline_heatline(baseline["commit"]) if baseline else None
    for name, problem in (("heatline", heatline_problem), (f"heatline@{args.baseline}", baseline_problem)):
        if problem:
            benchenv.log(f"skipping {name}: {problem}")
            profilers = [p for p in profilers if p.name != name]

    started = time.time()
    machine = benchenv.machine_description()
    git = benchenv.git_state()
    scratch = Path(tempfile.mkdtemp(prefix="heatline-accuracy-"))
    results = []
    for row in rows:
        results.append({"name": row.name, "program": row.program, "kind": row.kind, "unit": UNITS[row.kind],
                        "memory": row.memory, "results": measure_row(row, profilers, args.repetitions, args.timeout,
                                                                     scratch)})
    shutil.rmtree(scratch)
    document = {
        "schema": "heatline-bench-accuracy/1",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "load_average_at_end": os.getloadavg(),
        "git": git,
        "baseline": baseline,
        "machine": machine,
        "tools": benchenv.tool_versions(),
        "method": {"repetitions": args.repetitions, "timeout_s": args.timeout, "statistic": "median error",
                   "leak_likelihood_threshold": LEAK_LIKELIHOOD, "heatline_skipped": heatline_problem,
                   "baseline_skipped": baseline_problem},
        "rows": results,
    }
    path = benchenv.write_results("accuracy", document)
    print_table(results, [p.name for p in profilers])
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
