"""Truth program: three Python threads with CPU work in the ratio 1:2:3, one line each.

Each thread reads its own CPU clock when its work is done; the truth is written as JSON to the
file named on the command line ("# truth:" comments name the measured lines).
"""

import argparse
import json
import threading
import time


def worker_one(n: int, spent: dict[str, float]) -> None:
    acc = 0
    for i in range(n): acc = (acc + i * 3) & 0xFFFFFF  # truth: one  # noqa: E701
    spent["one"] = time.thread_time()


def worker_two(n: int, spent: dict[str, float]) -> None:
    acc = 0
    for i in range(2 * n): acc = (acc ^ i * 5) & 0xFFFFFF  # truth: two  # noqa: E701
    spent["two"] = time.thread_time()


def worker_three(n: int, spent: dict[str, float]) -> None:
    acc = 0
    for i in range(3 * n): acc = (acc + i * 7) & 0xFFFFFF  # truth: three  # noqa: E701
    spent["three"] = time.thread_time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("truth", help="JSON file that receives the measured truth")
    parser.add_argument("--iterations", type=int, default=30_000_000, help="loop iterations of the lightest thread")
    args = parser.parse_args()
    spent: dict[str, float] = {}
    threads = [threading.Thread(target=work, args=(args.iterations, spent))
               for work in (worker_one, worker_two, worker_three)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(args.truth, "w") as out:
        json.dump({"unit": "cpu seconds", "lines": spent}, out)


if __name__ == "__main__":
    main()
