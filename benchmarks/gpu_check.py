"""GPU check: does heatline put the GPU's work on the lines that use the GPU, and what does
reading the GPU cost?

Runs a PyTorch program with a CPU-only phase (a Python loop) and a GPU-heavy phase (matrix
products on cuda in a loop, each waited for with torch.cuda.synchronize), plain and under
`heatline --json` and `heatline --no-gpu --json`, in turn, --repeats times. It prints:

- heatline's per-line GPU figures (GPU %, GPU avg MB, GPU peak MB) of the GPU lines and the CPU
  line, for each profiled run, and the document's GPU header (device, per process or not, note);
- the median wall time of each configuration and its ratio to the plain run: heatline with the
  GPU read, and with --no-gpu (their difference is what polling the GPU costs).

It fails (exit status 1) when a profiled run did not measure the GPU, or when the GPU's work
is not on the GPU lines: their time-weighted GPU utilization must be at least
GPU_LINES_MIN_PERCENT and CPU_LINE_RATIO times the CPU line's, and their GPU memory peak must
exceed the CPU line's by at least half the tensors' size. Without PyTorch, or without a CUDA
device, it says so in one line and exits with status 2: it cannot run here (neither passed nor
failed).

Needs heatline and PyTorch in one environment:

    .venv/bin/python -m pip install torch
    .venv/bin/python benchmarks/gpu_check.py --repeats 3 --seconds 4
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Utilization is read about every 100 ms and per process only about every sixth of a second,
# and a reading stands until the next: the GPU lines must read busy on average, not always.
GPU_LINES_MIN_PERCENT = 50.0
# The CPU line may take some of the GPU's tail (its readings lag by up to a second), but far
# less than the GPU lines.
CPU_LINE_RATIO = 3.0
# The tensors of the GPU phase: three 4096 x 4096 float32 matrices, 64 MB each.
MATRIX_SIZE = 4096
TENSORS_MB = 3 * MATRIX_SIZE * MATRIX_SIZE * 4 / 2**20

PROGRAM = f'''\
import sys
import time

import torch


def cpu_phase(seconds):
    end = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < end:
        total += sum(i * i for i in range(1000))  # CPU line
    return total


def gpu_phase(seconds):
    a = torch.rand({MATRIX_SIZE}, {MATRIX_SIZE}, device="cuda")
    b = torch.rand({MATRIX_SIZE}, {MATRIX_SIZE}, device="cuda")
    c = torch.empty({MATRIX_SIZE}, {MATRIX_SIZE}, device="cuda")
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        torch.mm(a, b, out=c)  # GPU launch line
        torch.cuda.synchronize()  # GPU wait line
    del a, b, c
    torch.cuda.empty_cache()


seconds = float(sys.argv[1])
torch.zeros(1, device="cuda")  # the CUDA context, before either phase
cpu_phase(seconds)
gpu_phase(seconds)
'''
GPU_MARKS = ("# GPU launch line", "# GPU wait line")
CPU_MARK = "# CPU line"

CONFIGS = {
    "plain": [],
    "heatline": ["-m", "heatline", "--json"],
    "heatline --no-gpu": ["-m", "heatline", "--no-gpu", "--json"],
}


def cannot_run_here() -> str | None:
    """Why this machine cannot run the check, or None."""
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (.venv/bin/python -m pip install torch)"
    if not torch.cuda.is_available():
        return "PyTorch sees no CUDA device"
    return None


def marked_line(source: str, mark: str) -> int:
    return next(number for number, text in enumerate(source.splitlines(), 1) if mark in text)


def run(config: str, program: Path, seconds: float, outfile: Path) -> tuple[float, dict[str, Any] | None]:
    """Wall seconds of one run, and its profile document when heatline ran it."""
    command = [sys.executable, *CONFIGS[config]]
    if config != "plain":
        command += ["--outfile", str(outfile)]
    command += [str(program), str(seconds)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall_s = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{config} failed (exit status {done.returncode}):\n{done.stderr}")
    if config == "plain":
        return wall_s, None
    return wall_s, json.loads(outfile.read_text())


def line_entry(doc: dict[str, Any], program: Path, number: int) -> dict[str, Any]:
    """The document's entry of a line of the program; a line that got no time has none, and
    reads as all zeros."""
    files = [file for path, file in doc["files"].items() if Path(path).resolve() == program.resolve()]
    for line in files[0]["lines"] if files else ():
        if line["line"] == number:
            return line
    return {"line": number, "python_s": 0.0, "native_s": 0.0, "system_s": 0.0, "gil_wait_s": 0.0,
            "gpu_percent": 0.0, "gpu_mem_avg_mb": 0.0, "gpu_mem_peak_mb": 0.0}


def line_time_s(line: dict[str, Any]) -> float:
    return line["python_s"] + line["native_s"] + line["system_s"] + line["gil_wait_s"]


def check(doc: dict[str, Any], program: Path, gpu_lines: list[int], cpu_line: int) -> list[str]:
    """What is wrong with one profiled run's GPU figures (empty: nothing)."""
    gpu = doc["gpu"]
    if not gpu["available"]:
        return [f"the GPU was not measured: {gpu.get('note')}"]
    entries = [line_entry(doc, program, number) for number in gpu_lines]
    cpu = line_entry(doc, program, cpu_line)
    weights = [line_time_s(entry) for entry in entries]
    gpu_percent = sum(entry["gpu_percent"] * weight for entry, weight in zip(entries, weights)) / max(sum(weights), 1e-9)
    problems = []
    if gpu_percent < GPU_LINES_MIN_PERCENT:
        problems.append(f"the GPU lines read {gpu_percent:.0f}% busy, under {GPU_LINES_MIN_PERCENT:.0f}%")
    if gpu_percent < CPU_LINE_RATIO * cpu["gpu_percent"]:
        problems.append(f"the GPU lines read {gpu_percent:.0f}% busy, the CPU line {cpu['gpu_percent']:.0f}%:"
                        f" not {CPU_LINE_RATIO:g} times more")
    gpu_peak_mb = max(entry["gpu_mem_peak_mb"] for entry in entries)
    if gpu_peak_mb < cpu["gpu_mem_peak_mb"] + TENSORS_MB / 2:
        problems.append(f"the GPU lines' GPU memory peak ({gpu_peak_mb:.0f} MB) is not above the CPU line's"
                        f" ({cpu['gpu_mem_peak_mb']:.0f} MB) by half the tensors ({TENSORS_MB / 2:.0f} MB)")
    return problems


def print_figures(run_number: int, doc: dict[str, Any], program: Path, lines: dict[str, int]) -> None:
    gpu = doc["gpu"]
    whose = "per process" if gpu["per_process"] else "device-wide"
    print(f"run {run_number}: {gpu.get('device')} ({whose}); mean {doc['totals'].get('gpu_percent')}%,"
          f" peak {doc['totals'].get('gpu_mem_peak_mb')} MB; note: {gpu.get('note')}")
    if not gpu["available"]:
        return
    print(f"  {'line':<16} {'time s':>8} {'GPU %':>7} {'GPU avg MB':>11} {'GPU peak MB':>12}")
    for label, number in lines.items():
        entry = line_entry(doc, program, number)
        print(f"  {label:<16} {line_time_s(entry):>8.2f} {entry['gpu_percent']:>7.1f}"
              f" {entry['gpu_mem_avg_mb']:>11.1f} {entry['gpu_mem_peak_mb']:>12.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each configuration (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="length of each phase, CPU and GPU, in seconds (default %(default)s)")
    args = parser.parse_args()
    reason = cannot_run_here()
    if reason:
        print(f"gpu_check: cannot run here: {reason}")
        return 2
    with tempfile.TemporaryDirectory(prefix="heatline-gpu-check-") as work:
        program = Path(work) / "gpu_program.py"
        program.write_text(PROGRAM)
        gpu_lines = [marked_line(PROGRAM, mark) for mark in GPU_MARKS]
        cpu_line = marked_line(PROGRAM, CPU_MARK)
        lines = {f"{gpu_lines[0]} (launch)": gpu_lines[0], f"{gpu_lines[1]} (synchronize)": gpu_lines[1],
                 f"{cpu_line} (CPU)": cpu_line}
        walls: dict[str, list[float]] = {config: [] for config in CONFIGS}
        problems = []
        run("plain", program, 0.1, Path(work) / "warm.json")  # warms the disk caches of torch and CUDA
        for repeat in range(1, args.repeats + 1):
            for config in CONFIGS:
                wall_s, doc = run(config, program, args.seconds, Path(work) / "profile.json")
                walls[config].append(wall_s)
                if config == "heatline":
                    print_figures(repeat, doc, program, lines)
                    problems += [f"run {repeat}: {problem}" for problem in check(doc, program, gpu_lines, cpu_line)]
                elif config == "heatline --no-gpu" and doc["gpu"]["available"]:
                    problems.append(f"run {repeat}: --no-gpu still measured the GPU")
    plain_s = statistics.median(walls["plain"])
    print(f"\nwall time, median of {args.repeats} ({args.seconds:g} s CPU phase + {args.seconds:g} s GPU phase):")
    print(f"  {'configuration':<20} {'seconds':>8} {'ratio':>7}")
    for config, values in walls.items():
        median_s = statistics.median(values)
        print(f"  {config:<20} {median_s:>8.2f} {median_s / plain_s:>6.3f}x")
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    print("\nOK: the GPU's work is on the GPU lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
