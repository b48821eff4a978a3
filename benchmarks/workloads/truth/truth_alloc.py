"""Truth program: three lines that allocate known volumes (MiB), through Python and through NumPy.

A bytearray and a list (Python's allocator) and a NumPy array (malloc); each allocation is
released on the next round. The sizes are added up exactly; the truth is written as JSON to the
file named on the command line ("# truth:" comments name the measured lines).
"""

import argparse
import json
import sys

import numpy as np

MIB = 1 << 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("truth", help="JSON file that receives the measured truth")
    parser.add_argument("--rounds", type=int, default=60, help="allocations per line")
    args = parser.parse_args()
    allocated = {"bytearray": 0, "list": 0, "numpy": 0}
    for _ in range(args.rounds):
        buffer = bytearray(8 * MIB)  # truth: bytearray
        allocated["bytearray"] += sys.getsizeof(buffer)
        table = [0] * (2 * MIB)  # truth: list
        allocated["list"] += sys.getsizeof(table)
        array = np.ones(MIB)  # truth: numpy
        allocated["numpy"] += array.nbytes
        del buffer, table, array
    with open(args.truth, "w") as out:
        json.dump({"unit": "MiB", "lines": {name: size / MIB for name, size in allocated.items()}}, out)


if __name__ == "__main__":
    main()
