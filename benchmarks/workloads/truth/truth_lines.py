"""Truth program: four lines of one function, with CPU times in the ratio 1:2:3:4.

Each line is a pure-Python loop timed with the thread's CPU clock; the truth is written as JSON
to the file named on the command line ("# truth:" comments name the measured lines).
"""

import argparse
import json
import time


def weighted_lines(n: int, spent: dict[str, float]) -> int:
    acc = 0
    t0 = time.thread_time()
    for i in range(n): acc = (acc + i * 3) & 0xFFFFFF  # truth: one  # noqa: E701
    t1 = time.thread_time()
    for i in range(2 * n): acc = (acc ^ i * 5) & 0xFFFFFF  # truth: two  # noqa: E701
    t2 = time.thread_time()
    for i in range(3 * n): acc = (acc + i * 7) & 0xFFFFFF  # truth: three  # noqa: E701
    t3 = time.thread_time()
    for i in range(4 * n): acc = (acc ^ i * 11) & 0xFFFFFF  # truth: four  # noqa: E701
    t4 = time.thread_time()
    spent["one"] += t1 - t0
    spent["two"] += t2 - t1
    spent["three"] += t3 - t2
    spent["four"] += t4 - t3
    return acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("truth", help="JSON file that receives the measured truth")
    parser.add_argument("--rounds", type=int, default=200, help="calls of the function")
    args = parser.parse_args()
    spent = dict.fromkeys(("one", "two", "three", "four"), 0.0)
    for _ in range(args.rounds):
        weighted_lines(100_000, spent)
    with open(args.truth, "w") as out:
        json.dump({"unit": "cpu seconds", "lines": spent}, out)


if __name__ == "__main__":
    main()
