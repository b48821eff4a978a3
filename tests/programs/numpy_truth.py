"""Truth for NumPy: one line sorts a large array (single-threaded C code), one loops in Python.

Usage: numpy_truth.py TRUTH_JSON
Writes the thread CPU seconds of each marked line (time.thread_time() around it).
"""
import json
import sys
import time

import numpy as np

# 16 MB arrays: under glibc's 32 MB mmap ceiling, so each sort's output reuses freed heap
# memory instead of faulting in fresh pages (kernel time, not native time).
ARRAY_LENGTH = 2_000_000  # about 0.015 s per np.sort on a current x86-64 core
SORTS = 40
PYTHON_ITERATIONS = 11_000_000  # about 0.5 s of bytecode in a function


def main(truth_path):
    values = np.random.default_rng(1).random(ARRAY_LENGTH)
    t0 = time.thread_time()
    for _ in range(SORTS): ordered = np.sort(values)  # line: numpy
    t1 = time.thread_time()
    acc = 0
    for i in range(PYTHON_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: python
    t2 = time.thread_time()
    with open(truth_path, "w") as out:
        json.dump({"numpy_s": t1 - t0, "python_s": t2 - t1,
                   "checksum": acc + int(ordered[0] < ordered[-1])}, out)


if __name__ == "__main__":
    main(sys.argv[1])
