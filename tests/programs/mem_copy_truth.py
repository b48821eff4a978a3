"""Truth for copies: three lines copy 8 MB buffers a known number of times, each its own way,
and one line allocates the same buffers without copying.

Usage: mem_copy_truth.py TRUTH_JSON
Writes the bytes each marked line copies and allocates. What each line does, checked with an
LD_PRELOAD counter of memcpy/memmove (and their _chk forms) and malloc/calloc/realloc:
  bytes(bytearray(n)): allocates n (the bytearray) + n (the bytes), copies n with memcpy;
  np.array(array): allocates n natively, copies n with memmove;
  buffer[:] of a bytearray: allocates n, copies n with memcpy;
  np.empty: allocates n natively, copies nothing.
"""
import json
import sys

import numpy as np

MB = 1 << 20
COPY_BYTES = 8 * MB
REPEATS = 4


def main(truth_path):
    array = np.ones(COPY_BYTES // 8)
    buffer = bytearray(COPY_BYTES)
    for _ in range(REPEATS): copied = bytes(bytearray(COPY_BYTES))  # line: bytes
    for _ in range(REPEATS): copied = np.array(array)  # line: numpy
    for _ in range(REPEATS): copied = buffer[:]  # line: slice
    for _ in range(REPEATS): copied = np.empty(COPY_BYTES // 8)  # line: no-copy
    with open(truth_path, "w") as out:
        json.dump({"copied_bytes": {"bytes": REPEATS * COPY_BYTES,
                                    "numpy": REPEATS * array.nbytes,
                                    "slice": REPEATS * COPY_BYTES},
                   "allocated_bytes": {"bytes": 2 * REPEATS * COPY_BYTES,
                                       "numpy": REPEATS * COPY_BYTES,
                                       "slice": REPEATS * COPY_BYTES,
                                       "no-copy": REPEATS * COPY_BYTES}}, out)


if __name__ == "__main__":
    main(sys.argv[1])
