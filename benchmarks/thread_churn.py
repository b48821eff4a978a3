"""heatline's memory when a program starts many threads over a run, many alive at once.

Runs a program that starts --threads threads in rounds of --alive: each round's threads all
wait on one Event until the whole round is alive, then end; the next round starts. Plain Python
and `heatline --json` run it alternately, --repetitions times; the table gives the peak resident
memory of each (ru_maxrss), heatline's part (the difference), the wall time, and the threads the
profile lists (the first 1,000 that ended, one entry for the rest, and the main thread).

Usage: python3 benchmarks/thread_churn.py [--threads 10000] [--alive 1000] [--repetitions 3]
Uses the heatline of this checkout's .venv (`make install`).
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


PROGRAM = """\
import sys
import threading

total, alive = int(sys.argv[1]), int(sys.argv[2])
for _ in range(total // alive):
    gate = threading.Event()
    threads = [threading.Thread(target=gate.wait) for _ in range(alive)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
"""


def run(command: list[str]) -> tuple[float, float]:
    """Peak RSS in MB and wall seconds of one run of `command`."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"thread_churn.py: {command[0]} exited with status {status}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--alive", type=int, default=1_000)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    heatline = benchenv.checkout_bin("heatline", "thread_churn.py")
    python = benchenv.checkout_bin("python", "thread_churn.py")
    with tempfile.TemporaryDirectory() as name:
        program = Path(name) / "churn.py"
        program.write_text(PROGRAM)
        document = Path(name) / "profile.json"
        plain, profiled = [], []
        for _ in range(args.repetitions):
            plain.append(run([str(python), str(program), str(args.threads), str(args.alive)]))
            profiled.append(run([str(heatline), "--json", "--outfile", str(document), str(program),
                                 str(args.threads), str(args.alive)]))
        listed = len(json.loads(document.read_text())["threads"])
    plain_mb = statistics.median(mb for mb, _ in plain)
    profiled_mb = statistics.median(mb for mb, _ in profiled)
    print(f"{args.threads:,} threads started, {args.alive:,} alive at once; median of {args.repetitions}:")
    print("| | peak RSS | wall time |")
    print("|---|---:|---:|")
    print(f"| plain Python | {plain_mb:.1f} MB | {statistics.median(s for _, s in plain):.2f} s |")
    print(f"| heatline | {profiled_mb:.1f} MB | {statistics.median(s for _, s in profiled):.2f} s |")
    print(f"\nheatline's part of the peak: {profiled_mb - plain_mb:.1f} MB; threads listed in the profile: {listed:,}")


if __name__ == "__main__":
    main()
