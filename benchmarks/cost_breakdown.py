"""Where heatline's overhead goes: its added CPU time split by part, per workload.

Each workload runs under plain Python and under heatline in four configurations that each add one
part of the engine to the one before, alternating, one warm-up round and N measured rounds:

  engine idle       --cpu-only --cpu-sampling-interval 10: the launcher, the session, the helper's
                    beat (every 10 ms), the await timers; next to no sample
  + CPU samples     --cpu-only: the CPU-time timers, the signal handler (its frame walk, the
                    process_vm_readv reads of the newest frames), the helper crediting samples
  + allocator hooks --memory-sampling-rate 2^40: Python's allocators wrapped and the C library's
                    patched, every allocation and free passing through heatline's hooks, none
                    sampled
  + memory samples  the default rate (one sample per MB): the sampled allocations' stacks, the
                    live-memory table, the frees that find a sampled block

All with --no-gpu (there is no GPU here; its poller is a thread of its own). Each part's cost is
the difference of the medians of the process's CPU time (user + system, every thread: the helper's
too) between a configuration and the one before, as a share of plain Python's CPU time; the
last column is the whole profiler's wall-time slowdown (median of the rounds' ratios). The rows
go to stdout, the raw results to benchmarks/results/cost_breakdown-<UTC time>.json.

    python3 benchmarks/cost_breakdown.py [--workloads raytrace,alloc_heavy,pure_python] [--repetitions 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import benchenv
import overhead
import sample_cost

DEFAULT_WORKLOADS = ["raytrace", "fannkuch", "alloc_heavy", "pure_python", "numpy_heavy"]
NEVER_SAMPLED_BYTES = str(1 << 40)
CONFIGS = [
    ("engine idle", ["--no-gpu", "--cpu-only", "--cpu-sampling-interval", "10"]),
    ("+ CPU samples", ["--no-gpu", "--cpu-only"]),
    ("+ allocator hooks", ["--no-gpu", "--memory-sampling-rate", NEVER_SAMPLED_BYTES]),
    ("+ memory samples", ["--no-gpu"]),
]


def measure(workload: overhead.Workload, heatline: Path, rounds: int, scratch: Path) -> dict:
    cwd = Path(workload.argv[0]).parent
    python = benchenv.venv_python()
    names = ["python", *(name for name, _ in CONFIGS)]
    argvs = {"python": [str(python), *workload.argv]}
    for name, options in CONFIGS:
        argvs[name] = [str(heatline), *options, "--json", "--outfile", str(scratch / "profile.json"), *workload.argv]
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds + 1):
        for name in names:
            seconds_wall, seconds_cpu = sample_cost.measured_run(argvs[name], cwd, "cost_breakdown.py")
            if round_index:
                cpu[name].append(seconds_cpu)
                wall[name].append(seconds_wall)
        if round_index:
            print(f"  {workload.name} round {round_index}/{rounds}: "
                  + ", ".join(f"{name} {values[-1]:.2f}s" for name, values in cpu.items()), file=sys.stderr)
    return {"cpu_s": cpu, "wall_s": wall}


def summary(result: dict) -> dict:
    cpu = {name: statistics.median(values) for name, values in result["cpu_s"].items()}
    plain = cpu["python"]
    row: dict = {"plain_cpu_s": plain, "parts_percent": {}}
    previous = "python"
    for name, _ in CONFIGS:
        row["parts_percent"][name] = (cpu[name] - cpu[previous]) / plain * 100
        previous = name
    row["total_percent"] = (cpu[CONFIGS[-1][0]] - plain) / plain * 100
    walls = result["wall_s"]
    ratios = [profiled / plain_wall for profiled, plain_wall in zip(walls[CONFIGS[-1][0]], walls["python"])]
    row["slowdown"] = statistics.median(ratios)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS))
    parser.add_argument("--repetitions", type=int, default=7)
    args = parser.parse_args()
    workloads = overhead.workloads_with_heatline(args.workloads, "cost_breakdown.py")
    heatline = benchenv.venv_bin("heatline")
    results, rows = {}, {}
    with tempfile.TemporaryDirectory(prefix="heatline-cost-breakdown-") as scratch:
        for workload in workloads:
            name = workload.name
            results[name] = measure(workload, heatline, args.repetitions, Path(scratch))
            rows[name] = summary(results[name])
    print(f"heatline's added CPU time by part, % of plain Python's CPU time (median of {args.repetitions} rounds)")
    header = f"{'workload':<14} {'plain CPU s':>11}" + "".join(f" {name:>17}" for name, _ in CONFIGS)
    print(header + f" {'all parts':>9} {'slowdown':>8}")
    for name, row in rows.items():
        line = f"{name:<14} {row['plain_cpu_s']:11.2f}"
        line += "".join(f" {row['parts_percent'][part]:16.1f}%" for part, _ in CONFIGS)
        print(line + f" {row['total_percent']:8.1f}% {row['slowdown']:7.3f}x")
    document = {"schema": 1, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "git": benchenv.git_state(), "machine": benchenv.machine_description(),
                "configs": CONFIGS, "repetitions": args.repetitions, "results": results, "summary": rows}
    print(f"results: {benchenv.write_results('cost_breakdown', document)}")


if __name__ == "__main__":
    main()
