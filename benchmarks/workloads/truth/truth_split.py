"""Truth program: Python time and native time on separate lines.

One line runs pure-Python bytecode, one NumPy's matrix product into a preallocated array, one
zlib's compressor. Each line is timed with the thread's CPU clock; the truth is written as JSON
to the file named on the command line ("# truth:" comments name the measured lines).
"""

import argparse
import json
import os
import time
import zlib

# The truth is the main thread's CPU clock: BLAS must not hand the product to worker threads.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("truth", help="JSON file that receives the measured truth")
    parser.add_argument("--rounds", type=int, default=600, help="repetitions of the three lines")
    args = parser.parse_args()
    matrix = np.random.default_rng(7).standard_normal((450, 450))
    product = np.empty_like(matrix)
    block = bytes(i * 7 % 251 for i in range(1 << 20))
    spent = {"python": 0.0, "numpy": 0.0, "zlib": 0.0}
    acc = 0
    for _ in range(args.rounds):
        t0 = time.thread_time()
        for i in range(150_000): acc = (acc * 31 + i) & 0xFFFFF  # truth: python  # noqa: E701
        t1 = time.thread_time()
        np.matmul(matrix, matrix, out=product)  # truth: numpy
        t2 = time.thread_time()
        zlib.compress(block, 6)  # truth: zlib
        t3 = time.thread_time()
        spent["python"] += t1 - t0
        spent["numpy"] += t2 - t1
        spent["zlib"] += t3 - t2
    truth = {
        "python": {"python_s": spent["python"], "native_s": 0.0},
        "numpy": {"python_s": 0.0, "native_s": spent["numpy"]},
        "zlib": {"python_s": 0.0, "native_s": spent["zlib"]},
    }
    with open(args.truth, "w") as out:
        json.dump({"unit": "cpu seconds", "lines": truth}, out)


if __name__ == "__main__":
    main()
