"""Truth for the python/native split: pure-Python arithmetic on one line, zlib on another.

Usage: native_split_truth.py TRUTH_JSON
Writes the thread CPU seconds of each marked line (time.thread_time() around it). The
"python" line runs only bytecode (a for loop of integer arithmetic, no calls); the "generate"
and "native" lines each spend their time inside one C function, so all of it is native time.
"""
import json
import random
import sys
import time
import zlib

PYTHON_ITERATIONS = 20_000_000  # about 1 s of bytecode in a function on a current x86-64 core
ZLIB_BYTES = 24_000_000  # about 0.9 s of zlib level 6 on 16-symbol random data

SIXTEEN_SYMBOLS = bytes(97 + byte % 16 for byte in range(256))


def main(truth_path):
    t0 = time.thread_time()
    data = random.Random(1).randbytes(ZLIB_BYTES).translate(SIXTEEN_SYMBOLS)  # line: generate
    t1 = time.thread_time()
    acc = 0
    for i in range(PYTHON_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: python
    t2 = time.thread_time()
    compressed = zlib.compress(data, 6)  # line: native
    t3 = time.thread_time()
    with open(truth_path, "w") as truth:
        json.dump({"generate_s": t1 - t0, "python_s": t2 - t1, "native_s": t3 - t2,
                   "checksum": acc, "compressed_bytes": len(compressed)}, truth)


if __name__ == "__main__":
    main(sys.argv[1])
