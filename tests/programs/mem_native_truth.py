"""Truth for native allocations: NumPy array buffers of known size, from one line that frees
each buffer before allocating the next and one line that keeps its buffer to the end.

Usage: mem_native_truth.py TRUTH_JSON
Writes the bytes each marked line allocates and the most it holds at once. The buffers are
never written to, so they cost address space, not RAM: np.empty is malloc and np.zeros is
calloc of exactly the buffer's size (checked with an LD_PRELOAD counter of malloc and calloc).
"""
import json
import sys
import time

import numpy as np

MB = 1 << 20
FREED_BYTES = 16 * MB
REPEATS = 8
# Larger than any other buffer the program holds, so the footprint peaks when it is allocated.
KEPT_BYTES = 64 * MB
# The kept buffer stays live this long before the program ends.
HOLD_S = 0.2


def main(truth_path):
    for _ in range(REPEATS): buffer = np.empty(FREED_BYTES, np.uint8); del buffer  # line: freed
    kept = np.zeros(KEPT_BYTES, dtype=np.uint8)  # line: kept
    time.sleep(HOLD_S)
    with open(truth_path, "w") as out:
        json.dump({"freed_bytes": REPEATS * FREED_BYTES,
                   "freed_most_live_bytes": FREED_BYTES,
                   "kept_bytes": kept.nbytes}, out)


if __name__ == "__main__":
    main(sys.argv[1])
