"""Truth program: a line computing, a line sleeping and a line blocked in select().

Each line is timed with the wall clock; the truth is written as JSON to the file named on the
command line ("# truth:" comments name the measured lines).
"""

import argparse
import json
import os
import select
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("truth", help="JSON file that receives the measured truth")
    parser.add_argument("--rounds", type=int, default=80, help="repetitions of the three lines")
    args = parser.parse_args()
    never_readable, _ = os.pipe()
    spent = {"compute": 0.0, "sleep": 0.0, "select": 0.0}
    acc = 0
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for i in range(400_000): acc = (acc * 31 + i) & 0xFFFFF  # truth: compute  # noqa: E701
        t1 = time.perf_counter()
        time.sleep(0.03)  # truth: sleep
        t2 = time.perf_counter()
        select.select([never_readable], [], [], 0.03)  # truth: select
        t3 = time.perf_counter()
        spent["compute"] += t1 - t0
        spent["sleep"] += t2 - t1
        spent["select"] += t3 - t2
    with open(args.truth, "w") as out:
        json.dump({"unit": "wall seconds", "lines": spent}, out)


if __name__ == "__main__":
    main()
