"""One allocation of 4 GiB (np.empty, never written to: address space, not RAM).

Usage: mem_huge.py TRUTH_JSON
Writes the bytes allocated, or 0 when the system refused the allocation (MemoryError).
"""
import json
import sys

import numpy as np

HUGE_BYTES = 4 << 30


def main(truth_path):
    try:
        huge = np.empty(HUGE_BYTES, dtype=np.uint8)  # line: huge
        allocated = huge.nbytes
        del huge
    except MemoryError:
        allocated = 0
    with open(truth_path, "w") as out:
        json.dump({"allocated_bytes": allocated}, out)


if __name__ == "__main__":
    main(sys.argv[1])
