"""Truth program: two lines that copy known volumes (MiB) of memory.

bytes() of a bytearray and NumPy's copy() each copy their whole source once per round. The
truth is written as JSON to the file named on the command line ("# truth:" comments name the
measured lines).
"""

import argparse
import json

import numpy as np

MIB = 1 << 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("truth", help="JSON file that receives the measured truth")
    parser.add_argument("--rounds", type=int, default=60, help="copies per line")
    args = parser.parse_args()
    source_bytes = bytearray(8 * MIB)
    source_array = np.ones(MIB)
    copied = {"bytes": 0, "numpy": 0}
    for _ in range(args.rounds):
        snapshot = bytes(source_bytes)  # truth: bytes
        copied["bytes"] += len(snapshot)
        duplicate = source_array.copy()  # truth: numpy
        copied["numpy"] += duplicate.nbytes
        del snapshot, duplicate
    with open(args.truth, "w") as out:
        json.dump({"unit": "MiB", "lines": {name: size / MIB for name, size in copied.items()}}, out)


if __name__ == "__main__":
    main()
