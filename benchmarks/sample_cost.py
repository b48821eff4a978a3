"""What one sample costs the profiled program, and what a change of the engine added to it.

Wall-time ratios (overhead.py) cannot resolve a change of 1% on a machine whose speed moves by
10% from one run to the next. This benchmark measures the cost where it is paid instead: the CPU
time (user + system, every thread of the process, the helper's included) that heatline adds per
sample it takes. Each workload runs with the sampling rates raised (--cpu-sampling-interval
0.001, --memory-sampling-rate 16384 by default) so that sampling dominates what the profiler
adds, under plain Python, this checkout's heatline and, with --baseline REF, heatline as of REF,
alternating, one warm-up round and N measured rounds. Then:

  cost per sample  = (median profiled CPU time - median plain CPU time) / samples taken
  added by change  = (median CPU time of this checkout - of REF) / samples taken
  at default rates = that added cost times the samples a run at the default rates takes, as a
                     share of plain Python's CPU time

The rows go to stdout, the raw results to benchmarks/results/sample_cost-<UTC time>.json.

    python3 benchmarks/sample_cost.py --baseline acaf9ac [--workloads raytrace,alloc_heavy] [--cpu-only]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchenv
import overhead

DEFAULT_WORKLOADS = ["raytrace", "alloc_heavy", "threads_mixed"]


def cpu_seconds(argv: list[str], cwd: Path) -> float:
    """The user + system CPU time of one run of `argv`, its threads and children included."""
    return measured_run(argv, cwd, "sample_cost.py")[1]


def measured_run(argv: list[str], cwd: Path, script: str) -> tuple[float, float]:
    """The wall time and the user + system CPU time of one run of `argv` in the measured
    environment, its threads and children included; a run that fails ends `script` with its
    last line of stderr."""
    env = {**os.environ, **benchenv.MEASURED_ENV_OVERRIDES}
    began = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{script}: {' '.join(argv[:4])} ... failed: {stderr.strip().splitlines()[-1:]}")
    return wall, usage.ru_utime + usage.ru_stime


def samples_of(profile: Path) -> int:
    document = json.loads(profile.read_text())
    return int(document["samples"]["cpu"]) + int(document["samples"].get("memory") or 0)


def heatline_argv(executable: Path, rates: list[str], out: Path, program: tuple[str, ...]) -> list[str]:
    return [str(executable), *rates, "--json", "--outfile", str(out), *program]


def measure(workload: overhead.Workload, builds: dict[str, Path], rates: list[str], rounds: int,
            scratch: Path) -> dict:
    cwd = Path(workload.argv[0]).parent
    python = benchenv.venv_python()
    cpu: dict[str, list[float]] = {"python": [], **{name: [] for name in builds}}
    samples: dict[str, list[int]] = {name: [] for name in builds}
    for round_index in range(rounds + 1):
        for name in cpu:
            if name == "python":
                seconds = cpu_seconds([str(python), *workload.argv], cwd)
            else:
                out = scratch / f"{name}.json"
                seconds = cpu_seconds(heatline_argv(builds[name], rates, out, workload.argv), cwd)
                if round_index:
                    samples[name].append(samples_of(out))
            if round_index:
                cpu[name].append(seconds)
        if round_index:
            print(f"  {workload.name} round {round_index}/{rounds}: "
                  + ", ".join(f"{name} {values[-1]:.2f}s" for name, values in cpu.items()), file=sys.stderr)
    out = scratch / "default.json"
    default_rates = ["--cpu-only"] if "--cpu-only" in rates else []
    cpu_seconds(heatline_argv(builds["heatline"], default_rates, out, workload.argv), cwd)
    return {"cpu_s": cpu, "samples": samples, "default_rate_samples": samples_of(out)}


def summary(result: dict, baseline: str | None) -> dict:
    median = {name: statistics.median(values) for name, values in result["cpu_s"].items()}
    row = {"plain_cpu_s": median["python"]}
    for name in result["samples"]:
        taken = statistics.median(result["samples"][name])
        row[name] = {"cpu_s": median[name], "samples": taken,
                     "us_per_sample": (median[name] - median["python"]) / taken * 1e6}
    if baseline:
        taken = statistics.median(result["samples"]["heatline"])
        added = (median["heatline"] - median[baseline]) / taken
        row["added_us_per_sample"] = added * 1e6
        row["added_at_default_rates"] = added * result["default_rate_samples"] / median["python"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="REF", help="also measure heatline as of git ref REF")
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS))
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--cpu-sampling-interval", default="0.001")
    parser.add_argument("--memory-sampling-rate", default="16384")
    parser.add_argument("--cpu-only", action="store_true", help="run heatline with --cpu-only (CPU samples only)")
    args = parser.parse_args()
    workloads = overhead.workloads_with_heatline(args.workloads, "sample_cost.py")
    builds = {"heatline": benchenv.venv_bin("heatline")}
    baseline = None
    if args.baseline:
        commit = benchenv.resolve_commit(args.baseline)
        problem = benchenv.ensure_baseline_heatline(commit)
        if problem:
            sys.exit(f"sample_cost.py: {problem}")
        baseline = f"heatline@{args.baseline}"
        builds[baseline] = benchenv.baseline_bin("heatline")
    rates = ["--cpu-sampling-interval", args.cpu_sampling_interval]
    rates += ["--cpu-only"] if args.cpu_only else ["--memory-sampling-rate", args.memory_sampling_rate]
    results, rows = {}, {}
    with tempfile.TemporaryDirectory(prefix="heatline-sample-cost-") as scratch:
        for workload in workloads:
            name = workload.name
            results[name] = measure(workload, builds, rates, args.repetitions, Path(scratch))
            rows[name] = summary(results[name], baseline)
    header = f"{'workload':<14} {'plain CPU s':>11}"
    for build in builds:
        header += f" {build + ' CPU s':>22} {'samples':>8} {'us/sample':>9}"
    if baseline:
        header += f" {'added us/sample':>15} {'added at default rates':>22}"
    print(f"CPU time per sample at {' '.join(rates)}, median of {args.repetitions} rounds")
    print(header)
    for name, row in rows.items():
        line = f"{name:<14} {row['plain_cpu_s']:11.2f}"
        for build in builds:
            line += f" {row[build]['cpu_s']:22.2f} {row[build]['samples']:8.0f} {row[build]['us_per_sample']:9.1f}"
        if baseline:
            line += f" {row['added_us_per_sample']:15.1f} {row['added_at_default_rates'] * 100:21.2f}%"
        print(line)
    document = {"schema": 1, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "git": benchenv.git_state(), "baseline": args.baseline, "machine": benchenv.machine_description(),
                "rates": rates, "repetitions": args.repetitions, "results": results, "summary": rows}
    print(f"results: {benchenv.write_results('sample_cost', document)}")


if __name__ == "__main__":
    main()
