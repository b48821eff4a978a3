"""Memory in two files of the program, for the options that choose files and lines with memory
profiling on: a line here and a line in mem_scope_helper.py each allocate one NumPy buffer
(address space only: it takes microseconds, so the line has memory and next to no time), and a
line spends the time.

Usage: mem_scope.py TRUTH_JSON
Writes the bytes of each buffer and the thread CPU seconds of the line that spends the time.
"""
import json
import sys
import time

import numpy as np

from mem_scope_helper import allocate_in_helper

BUFFER_BYTES = 32 << 20  # 32 R at the default rate: counted exactly
SPIN_ITERATIONS = 6_000_000  # about 0.5 s of bytecode in a function


def main(truth_path):
    kept = np.empty(BUFFER_BYTES, dtype=np.uint8)  # line: main-alloc
    helper = allocate_in_helper(BUFFER_BYTES)  # line: call-helper
    acc = 0
    t0 = time.thread_time()
    for i in range(SPIN_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: spin
    spin_s = time.thread_time() - t0
    with open(truth_path, "w") as out:
        json.dump({"main_bytes": kept.nbytes, "helper_bytes": helper.nbytes, "spin_s": spin_s,
                   "checksum": acc}, out)


if __name__ == "__main__":
    main(sys.argv[1])
