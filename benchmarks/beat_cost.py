"""What heatline's helper costs while many threads are alive: its CPU time per second, by thread count.

Runs a program that starts N threads which all wait on one Event (alive, idle), sleeps
--seconds while they wait, and prints the CPU seconds the whole process used during that sleep
(os.times: user + system, every thread). Neither the threads nor the sleeping main thread run,
so plain Python uses next to nothing there, and what heatline adds is its helper's work: the
beat (every 10 ms) looks at every thread, lists them, reads their clocks. Runs plain Python and
`heatline` alternately, --repetitions times, and prints the medians, per thread count: the
process's CPU seconds per second of the window, plain and profiled, and their difference (the
share of one core the helper takes).

Usage: python3 benchmarks/beat_cost.py [--threads 0,100,1000] [--seconds 5] [--repetitions 3]
Uses the heatline of this checkout's .venv (`make install`).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

import benchenv


PROGRAM = """\
import os
import sys
import threading
import time

count, seconds = int(sys.argv[1]), float(sys.argv[2])
gate = threading.Event()
threads = [threading.Thread(target=gate.wait) for _ in range(count)]
for thread in threads:
    thread.start()
time.sleep(1.0)  # let the profiler find them all
before = os.times()
time.sleep(seconds)
after = os.times()
gate.set()
for thread in threads:
    thread.join()
print((after.user - before.user) + (after.system - before.system))
"""


def cpu_per_second(command: list[str], count: int, seconds: float) -> float:
    done = subprocess.run([*command, str(count), str(seconds)], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1]) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=lambda s: [int(x) for x in s.split(",")], default=[0, 100, 1000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    heatline = benchenv.checkout_bin("heatline", "beat_cost.py")
    python = benchenv.checkout_bin("python", "beat_cost.py")
    with tempfile.TemporaryDirectory() as directory:
        program = Path(directory) / "idle_threads.py"
        program.write_text(PROGRAM)
        report = Path(directory) / "profile.json"
        plain = [str(python), str(program)]
        profiled = [str(heatline), "--json", "--outfile", str(report), str(program)]
        print("| threads alive | plain CPU s/s | heatline CPU s/s | helper's share of a core |")
        print("|---:|---:|---:|---:|")
        for count in args.threads:
            plain_values, profiled_values = [], []
            for _ in range(args.repetitions):
                plain_values.append(cpu_per_second(plain, count, args.seconds))
                profiled_values.append(cpu_per_second(profiled, count, args.seconds))
            plain_s, profiled_s = statistics.median(plain_values), statistics.median(profiled_values)
            print(f"| {count:,} | {plain_s:.4f} | {profiled_s:.4f} | {(profiled_s - plain_s) * 100:.1f}% |")


if __name__ == "__main__":
    main()
