"""Stack table growth (issue 12): a long run of a program that keeps making new call paths keeps
a bounded stack table.

The workload recurses through a few functions chosen at random at every level, to random
depths (up to --max-depth, beyond the 128 frames a stack keeps): nearly every sample is a call
path not seen before, the worst case for the table. It runs under heatline's API in this one
process for --seconds (default 600); every --every seconds the table prints a row: the stacks and
frames in the profile so far, what went to a shorter stack because the table was full, and the
process's resident memory. The profile is taken with heatline's own snapshot, the one that
`heatline --push-interval` and child processes use.

    python3 benchmarks/stacks_memory.py [--seconds 600] [--every 60] [--max-depth 400]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import heatline
from heatline import _session


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / (1 << 20)


def spin(n: int) -> int:
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc


def down_a(depth: int) -> int:
    return spin(2000) if depth <= 0 else pick()(depth - 1)


def down_b(depth: int) -> int:
    return spin(2000) if depth <= 0 else pick()(depth - 1)


def down_c(depth: int) -> int:
    return spin(2000) if depth <= 0 else pick()(depth - 1)


def down_d(depth: int) -> int:
    return spin(2000) if depth <= 0 else pick()(depth - 1)


FUNCTIONS = (down_a, down_b, down_c, down_d)


def pick():
    return FUNCTIONS[random.randrange(len(FUNCTIONS))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--every", type=float, default=60)
    parser.add_argument("--max-depth", type=int, default=400)
    args = parser.parse_args()
    sys.setrecursionlimit(args.max_depth + 200)
    random.seed(12)
    print(f"heatline {heatline.__version__ if hasattr(heatline, '__version__') else ''}, "
          f"Python {sys.version.split()[0]}, random call paths up to {args.max_depth} deep")
    print(f"{'elapsed s':>9} {'stacks':>8} {'frames':>7} {'merged credits':>15} {'merged s':>9} {'RSS MB':>7}")
    heatline.start()
    start = time.monotonic()
    next_row = start + args.every
    while True:
        pick()(random.randrange(args.max_depth))
        now = time.monotonic()
        if now >= next_row or now - start >= args.seconds:
            section = _session.snapshot()["stacks"]
            merged = section["merged"]
            print(f"{now - start:9.0f} {len(section['stacks']):8d} {len(section['frames']):7d} "
                  f"{merged['credits']:15d} {merged['seconds']:9.2f} {rss_mb():7.1f}", flush=True)
            next_row += args.every
            if now - start >= args.seconds:
                break
    heatline.stop()


if __name__ == "__main__":
    main()
