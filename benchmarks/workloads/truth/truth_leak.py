"""Truth program: one line that leaks 1 MiB per round, one that allocates as much and frees it.

The truth is written as JSON to the file named on the command line ("# truth:" comments name the
measured lines): true for the line that leaks.
"""

import argparse
import json
import time

MIB = 1 << 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("truth", help="JSON file that receives the measured truth")
    parser.add_argument("--rounds", type=int, default=300, help="rounds (MiB leaked)")
    args = parser.parse_args()
    kept = []
    for _ in range(args.rounds):
        kept.append(bytearray(MIB))  # truth: leaking
        scratch = bytearray(MIB)  # truth: freed
        del scratch
        time.sleep(0.002)
    with open(args.truth, "w") as out:
        json.dump({"unit": "leaks", "lines": {"leaking": True, "freed": False}}, out)


if __name__ == "__main__":
    main()
