"""Overhead benchmark (issue 3): how much slower, and how much larger, each profiler makes a program.

Every workload runs as a whole process under every configuration, the configurations interleaved
(one round runs each once), one warm-up round then N measured rounds. A configuration's slowdown
on a workload is the median over the rounds of its wall time divided by plain Python's wall time
in the same round; its memory cost is the same ratio of peak RSS. The table goes to stdout, the raw
results to benchmarks/results/overhead-<UTC time>.json.

The workloads are the ten pyperformance benchmarks of Scalene's published overhead table
(OSDI 2023), each run by pyperf's worker mode as one process doing a fixed number of loops, plus
three of our own (benchmarks/workloads/). All tools live in benchmarks/.venv-bench, created on
the first run.

With --baseline REF, heatline as of git ref REF runs too, as "heatline@REF" and
"heatline@REF --cpu-only", in the same rounds as the others: before and after from one run
(`benchmarks/report.py --compare` prints them side by side). Such a run on some workloads only
goes to benchmarks/results/compare/, which the README's tables do not read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import benchenv

WARMUP_ROUNDS = 1
PYPERFORMANCE_COPY_DIR = benchenv.BENCH_DIR / "work" / "pyperformance"


@dataclass(frozen=True)
class Workload:
    name: str
    label: str          # short column title
    suite: str          # "pyperformance" or "own"
    argv: tuple[str, ...]  # the script and its arguments, run by some Python
    own_code: bool      # its hot code is defined in the script itself (line_profiler applies)


@dataclass
class Config:
    name: str
    command: Callable[[list[str], Path], list[str]]  # (program argv, output dir) -> process argv
    output: str | None = None                        # file the profiler writes in the output dir
    applies: Callable[[Workload], bool] = lambda workload: True
    max_rounds: int | None = None                     # measured rounds only, no warm-up (very slow tools)
    skipped: str | None = None                        # why the configuration cannot run here


@dataclass
class Cell:
    """One configuration on one workload."""
    walls_s: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    rss_ratios: list[float] = field(default_factory=list)
    failure: str | None = None


# (name, column label, pyperformance benchmark, extra arguments, loops, hot code in the script)
# Loops are chosen for about 1-3 s of work per process on a 2.6 GHz EPYC.
PYPERFORMANCE_WORKLOADS = [
    ("async_tree", "at_none", "async_tree", ["none"], 1, True),
    ("async_tree_io", "at_io", "async_tree", ["io"], 1, True),
    ("async_tree_cpu_io_mixed", "at_mixed", "async_tree", ["cpu_io_mixed"], 1, True),
    ("async_tree_memoization", "at_memo", "async_tree", ["memoization"], 1, True),
    ("docutils", "docutils", "docutils", [], 1, False),
    ("fannkuch", "fannkuch", "fannkuch", [], 3, True),
    ("mdp", "mdp", "mdp", [], 1, True),
    ("pprint", "pprint", "pprint", [], 1, False),
    ("raytrace", "raytrace", "raytrace", [], 4, True),
    ("sympy", "sympy", "sympy", [], 1, False),
]
OWN_WORKLOADS = [
    ("numpy_heavy", "numpy"),
    ("threads_mixed", "threads"),
    ("alloc_heavy", "alloc"),
    ("pure_python", "pure"),
    ("pool_workers", "pool"),
]
QUICK_WORKLOADS = ["raytrace", "numpy_heavy"]
QUICK_CONFIGS = ["python", "heatline", "heatline --cpu-only", "scalene", "scalene --cpu-only"]
MEMORY_PROFILER_WORKLOAD = "alloc_heavy"


def copy_pyperformance_benchmarks() -> None:
    """Copy the benchmarks out of site-packages: Scalene and heatline do not profile files there."""
    source = benchenv.pyperformance_benchmarks_dir()
    for name in benchenv.PYPERFORMANCE_BENCHMARKS:
        target = PYPERFORMANCE_COPY_DIR / f"bm_{name}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source / f"bm_{name}", target)


def all_workloads() -> list[Workload]:
    workloads = []
    for name, label, benchmark, extra, loops, own_code in PYPERFORMANCE_WORKLOADS:
        script = PYPERFORMANCE_COPY_DIR / f"bm_{benchmark}" / "run_benchmark.py"
        pyperf_args = ["--worker", "--loops", str(loops), "--values", "1", "--warmups", "0"]
        workloads.append(Workload(name, label, "pyperformance", (str(script), *pyperf_args, *extra), own_code))
    for name, label in OWN_WORKLOADS:
        workloads.append(Workload(name, label, "own", (str(benchenv.WORKLOADS_DIR / f"{name}.py"),), True))
    return workloads


def _scalene(cpu_only: bool) -> Callable[[list[str], Path], list[str]]:
    def command(program: list[str], out: Path) -> list[str]:
        flags = ["--cpu-only"] if cpu_only else []
        program_args = ["---", *program[1:]] if len(program) > 1 else []
        return [str(benchenv.venv_bin("scalene")), "run", *flags, "-o", str(out / "scalene.json"), program[0],
                *program_args]
    return command


def _heatline(executable: Path, cpu_only: bool) -> Callable[[list[str], Path], list[str]]:
    def command(program: list[str], out: Path) -> list[str]:
        flags = ["--cpu-only"] if cpu_only else []
        return [str(executable), *flags, "--json", "--outfile", str(out / "heatline.json"), *program]
    return command


def all_configs() -> list[Config]:
    python = str(benchenv.venv_python())

    def tool(name: str) -> str:
        return str(benchenv.venv_bin(name))

    return [
        Config("python", lambda p, out: [python, *p]),
        Config("heatline", _heatline(benchenv.venv_bin("heatline"), cpu_only=False), output="heatline.json"),
        Config("heatline --cpu-only", _heatline(benchenv.venv_bin("heatline"), cpu_only=True), output="heatline.json"),
        Config("scalene", _scalene(cpu_only=False), output="scalene.json"),
        Config("scalene --cpu-only", _scalene(cpu_only=True), output="scalene.json"),
        Config("memray", lambda p, out: [tool("memray"), "run", "-q", "-f", "-o", str(out / "memray.bin"), *p],
               output="memray.bin"),
        Config("py-spy", lambda p, out: [tool("py-spy"), "record", "-o", str(out / "py-spy.svg"), "--", python, *p],
               output="py-spy.svg"),
        Config("pyinstrument", lambda p, out: [tool("pyinstrument"), "-o", str(out / "pyinstrument.txt"), *p],
               output="pyinstrument.txt"),
        Config("cProfile", lambda p, out: [python, "-m", "cProfile", "-o", str(out / "cprofile.pstats"), *p],
               output="cprofile.pstats"),
        Config("yappi", lambda p, out: [tool("yappi"), "-o", str(out / "yappi.pstat"), *p], output="yappi.pstat"),
        Config("line_profiler",
               lambda p, out: [tool("kernprof"), "--no-config", "-l", "-p", p[0], "-o", str(out / "lines.lprof"), *p],
               output="lines.lprof", applies=lambda workload: workload.own_code),
        Config("memory_profiler",
               lambda p, out: [python, str(benchenv.BENCH_DIR / "mprof_script.py"), str(out / "mprof.txt"), *p],
               output="mprof.txt", applies=lambda workload: workload.name == MEMORY_PROFILER_WORKLOAD,
               max_rounds=3),
    ]


def with_baseline(configs: list[Config], ref: str) -> list[Config]:
    """`configs` with heatline as of `ref` right after each mode of this checkout's heatline, so
    that the two builds alternate in every round."""
    result = []
    for config in configs:
        result.append(config)
        if config.name in ("heatline", "heatline --cpu-only"):
            result.append(Config(config.name.replace("heatline", f"heatline@{ref}", 1),
                                 _heatline(benchenv.baseline_bin("heatline"), cpu_only=config.name.endswith("--cpu-only")),
                                 output="heatline.json"))
    if len(result) == len(configs):
        sys.exit("overhead.py: --baseline compares heatline builds: select heatline or heatline --cpu-only too")
    return result


def check_py_spy(config: Config, scratch: Path) -> None:
    """py-spy needs to ptrace its child; some containers forbid it. The probe must be busy:
    py-spy exits with an error when it recorded no sample at all."""
    probe = subprocess.run(
        [str(benchenv.venv_bin("py-spy")), "record", "-o", str(scratch / "probe.svg"), "--",
         str(benchenv.venv_python()), "-c", "sum(range(3 * 10**7))"],
        capture_output=True, text=True, timeout=60,
    )
    if probe.returncode != 0:
        messages = [line for line in probe.stderr.splitlines() if "rror" in line] or ["no error message"]
        config.skipped = f"py-spy cannot sample on this machine (ptrace not permitted?): {messages[0].strip()}"


def select(items: list, names: list[str] | None, what: str) -> list:
    if names is None:
        return items
    known = {item.name: item for item in items}
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(f"overhead.py: unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})")
    return [known[name] for name in names]


def workloads_with_heatline(spec: str, script: str) -> list[Workload]:
    """The workloads named in `spec` (comma-separated), with the benchmark venv's tools and this
    checkout's heatline ready: for the scripts that measure heatline alone on these workloads.
    An unknown name, or a heatline that cannot be built, ends `script` with one line."""
    names = [name for name in spec.split(",") if name]
    known = {workload.name: workload for workload in all_workloads()}
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(f"{script}: unknown workload: {', '.join(unknown)} (known: {', '.join(known)})")
    benchenv.ensure_tools()
    copy_pyperformance_benchmarks()
    problem = benchenv.ensure_heatline()
    if problem:
        sys.exit(f"{script}: {problem}")
    return [known[name] for name in names]


def run_once(workload: Workload, config: Config, round_index: int, timeout_s: float, scratch: Path,
             runs: list[dict[str, Any]]) -> benchenv.ProcessResult:
    """One process of one configuration on one workload, recorded in `runs`."""
    out = Path(tempfile.mkdtemp(dir=scratch))
    result = benchenv.run_measured(config.command(list(workload.argv), out), out, timeout_s)
    profile = out / config.output if config.output else None
    runs.append({"workload": workload.name, "config": config.name, "round": round_index,
                 "warmup": round_index < WARMUP_ROUNDS, "wall_s": round(result.wall_s, 4),
                 "peak_rss_mb": round(result.peak_rss_mb, 1), "returncode": result.returncode,
                 "output_bytes": profile.stat().st_size if profile and profile.exists() else None})
    shutil.rmtree(out)
    return result


def takes_part(config: Config, cell: Cell, round_index: int) -> bool:
    if cell.failure:
        return False
    if config.max_rounds is None:
        return True
    return WARMUP_ROUNDS <= round_index < WARMUP_ROUNDS + config.max_rounds


def measure_workload(workload: Workload, configs: list[Config], repetitions: int, timeout_s: float,
                     scratch: Path, runs: list[dict[str, Any]]) -> dict[str, Cell]:
    """The rounds of one workload: plain Python first in each, then every configuration once."""
    active = [config for config in configs if config.skipped is None and config.applies(workload)]
    cells = {config.name: Cell() for config in active}
    for round_index in range(WARMUP_ROUNDS + repetitions):
        warmup = round_index < WARMUP_ROUNDS
        baseline: benchenv.ProcessResult | None = None
        progress = []
        for config in active:
            cell = cells[config.name]
            if not takes_part(config, cell, round_index) or (config.name != "python" and baseline is None):
                continue
            result = run_once(workload, config, round_index, timeout_s, scratch, runs)
            if result.returncode != 0:
                cell.failure = (f"killed after {timeout_s:.0f} s" if result.timed_out
                                else f"exit status {result.returncode}: " + result.stderr_tail.strip()[-600:])
                progress.append(f"{config.name} FAILED")
                continue
            if config.name == "python":
                baseline = result
            progress.append(f"{config.name} {result.wall_s:.2f}s")
            if not warmup:
                assert baseline is not None  # plain Python ran first in this round
                cell.walls_s.append(result.wall_s)
                cell.rss_mb.append(result.peak_rss_mb)
                cell.ratios.append(result.wall_s / baseline.wall_s)
                cell.rss_ratios.append(result.peak_rss_mb / baseline.peak_rss_mb)
        kind = "warm-up" if warmup else f"round {round_index - WARMUP_ROUNDS + 1}/{repetitions}"
        benchenv.log(f"{workload.name} {kind}: " + ", ".join(progress))
    return cells


def summarize_cell(cell: Cell) -> dict[str, Any]:
    if cell.failure or not cell.ratios:
        return {"failure": cell.failure or "no measured round"}
    return {
        "ratio_median": round(statistics.median(cell.ratios), 4),
        "ratio_min": round(min(cell.ratios), 4),
        "ratio_max": round(max(cell.ratios), 4),
        "wall_s_median": round(statistics.median(cell.walls_s), 4),
        "peak_rss_mb_median": round(statistics.median(cell.rss_mb), 1),
        "rss_ratio_median": round(statistics.median(cell.rss_ratios), 3),
        "rounds": len(cell.ratios),
    }


def summarize_config(results: dict[str, dict[str, Any]], workloads: list[Workload]) -> dict[str, Any]:
    """Median, geometric mean and maximum of the per-workload slowdowns, per suite."""
    summary: dict[str, Any] = {}
    for suite in ("pyperformance", "own", "all"):
        ratios = {w.name: results[w.name]["ratio_median"] for w in workloads
                  if (suite == "all" or w.suite == suite) and "ratio_median" in results.get(w.name, {})}
        if not ratios:
            continue
        worst = max(ratios, key=ratios.__getitem__)
        summary[suite] = {"median": round(statistics.median(ratios.values()), 4),
                          "geomean": round(statistics.geometric_mean(ratios.values()), 4),
                          "max": ratios[worst], "max_workload": worst, "workloads": len(ratios)}
    return summary


def format_table(title: str, configs: list[Config], workloads: list[Workload], results: dict[str, dict],
                 value: Callable[[dict], str], summaries: dict[str, dict] | None) -> str:
    headers = ["profiler"] + [w.label for w in workloads]
    if summaries is not None:
        headers += ["median*", "gmean*", "max*"]
    rows = []
    for config in configs:
        row = [config.name]
        for workload in workloads:
            cell = results.get(config.name, {}).get(workload.name)
            row.append("-" if cell is None else ("FAIL" if "failure" in cell else value(cell)))
        if summaries is not None:
            stats = summaries.get(config.name, {}).get("pyperformance")
            row += [f"{stats[key]:.2f}x" for key in ("median", "geomean", "max")] if stats else ["-"] * 3
        rows.append(row)
    widths = [max(len(line[i]) for line in [headers, *rows]) for i in range(len(headers))]
    lines = [title, "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
    for row in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def print_report(configs: list[Config], workloads: list[Workload], results: dict[str, dict],
                 summaries: dict[str, dict]) -> None:
    print(format_table("Slowdown (median wall time / plain Python, same round); "
                       "* = over the pyperformance workloads", configs, workloads, results,
                       lambda cell: f"{cell['ratio_median']:.2f}x", summaries))
    print()
    print(format_table("Peak RSS of the largest process (MB, median)", configs, workloads, results,
                       lambda cell: f"{cell['peak_rss_mb_median']:.0f}", None))
    notes = [f"{config.name}: skipped: {config.skipped}" for config in configs if config.skipped]
    for config_name, cells in results.items():
        notes += [f"{config_name} on {name}: {cell['failure']}" for name, cell in cells.items() if "failure" in cell]
    if notes:
        print("\n" + "\n".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"{' and '.join(QUICK_WORKLOADS)} only, heatline and Scalene only, 3 rounds "
                             "(under two minutes once the venv exists)")
    parser.add_argument("--repetitions", type=int, help="measured rounds per workload (default 5, --quick 3)")
    parser.add_argument("--workloads", type=lambda s: s.split(","), help="comma-separated workload names")
    parser.add_argument("--configs", type=lambda s: s.split(","),
                        help="comma-separated configuration names ('python' is always added)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before one run is killed (default 900)")
    parser.add_argument("--baseline", metavar="REF",
                        help="also run heatline as of git ref REF (built into benchmarks/.venv-bench-baseline, "
                             "cached by commit) in both modes, in the same rounds")
    args = parser.parse_args()
    repetitions = args.repetitions or (3 if args.quick else 5)

    benchenv.ensure_tools()
    copy_pyperformance_benchmarks()
    workloads = select(all_workloads(), args.workloads or (QUICK_WORKLOADS if args.quick else None), "workload")
    config_names = args.configs or (QUICK_CONFIGS if args.quick else None)
    if config_names is not None and "python" not in config_names:
        config_names = ["python", *config_names]
    configs = select(all_configs(), config_names, "configuration")
    baseline = None
    if args.baseline:
        baseline = {"ref": args.baseline, "commit": benchenv.resolve_commit(args.baseline)}
        configs = with_baseline(configs, args.baseline)

    scratch = Path(tempfile.mkdtemp(prefix="heatline-overhead-"))
    heatline_problem = (benchenv.ensure_heatline()
                        if {"heatline", "heatline --cpu-only"} & {c.name for c in configs} else None)
    baseline_problem = benchenv.ensure_baseline_heatline(baseline["commit"]) if baseline else None
    for config in configs:
        if config.name.startswith("heatline@"):
            config.skipped = baseline_problem
        elif config.name.startswith("heatline"):
            config.skipped = heatline_problem
        if config.name == "py-spy":
            check_py_spy(config, scratch)
    for config in configs:
        if config.skipped:
            benchenv.log(f"skipping {config.name}: {config.skipped}")

    started = time.time()
    machine = benchenv.machine_description()
    git = benchenv.git_state()
    runs: list[dict[str, Any]] = []
    results: dict[str, dict[str, dict]] = {config.name: {} for config in configs}
    for workload in workloads:
        cells = measure_workload(workload, configs, repetitions, args.timeout, scratch, runs)
        for config_name, cell in cells.items():
            results[config_name][workload.name] = summarize_cell(cell)
    shutil.rmtree(scratch)
    summaries = {name: summarize_config(cells, workloads) for name, cells in results.items()}

    document = {
        "schema": "heatline-bench-overhead/1",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "load_average_at_end": os.getloadavg(),
        "quick": args.quick,
        "git": git,
        "baseline": baseline,
        "machine": machine,
        "tools": benchenv.tool_versions(),
        "method": {"warmup_rounds": WARMUP_ROUNDS, "repetitions": repetitions, "timeout_s": args.timeout,
                   "statistic": "median",
                   "ratio": "wall time / plain Python wall time of the same round",
                   "peak_rss": "os.wait4 ru_maxrss: the largest process of the tree"},
        "workloads": [{"name": w.name, "label": w.label, "suite": w.suite,
                       "argv": [Path(w.argv[0]).name, *w.argv[1:]]} for w in workloads],
        "configurations": [{"name": c.name, "skipped": c.skipped, "max_rounds": c.max_rounds} for c in configs],
        "results": results,
        "summary": summaries,
        "runs": runs,
    }
    # A before/after run on some workloads only compares two builds; a row of the README's table
    # must come from a run of every workload.
    partial_comparison = baseline is not None and len(workloads) < len(all_workloads())
    path = benchenv.write_results("overhead", document,
                                  benchenv.COMPARE_DIR if partial_comparison else benchenv.RESULTS_DIR)
    print_report(configs, workloads, results, summaries)
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
