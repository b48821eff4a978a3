"""Eight threads allocate and free Python objects and NumPy buffers at the same time.

Usage: mem_threads.py TRUTH_JSON
Writes the bytes the NumPy line allocated in all threads and how many threads finished.
"""
import json
import sys
import threading

import numpy as np

MB = 1 << 20
THREADS = 8
ITERATIONS = 30
ARRAY_BYTES = 4 * MB  # never written to: address space, not RAM
ROWS = 5_000  # about 1 MB of tuples and strs a batch

finished = []


def worker():
    for _ in range(ITERATIONS):
        rows = [(i, str(i)) for i in range(ROWS)]  # line: thread-python
        array = np.empty(ARRAY_BYTES, dtype=np.uint8)  # line: thread-numpy
        del rows, array
    finished.append(threading.get_ident())


def main(truth_path):
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(truth_path, "w") as out:
        json.dump({"numpy_bytes": THREADS * ITERATIONS * ARRAY_BYTES,
                   "threads_finished": len(finished)}, out)


if __name__ == "__main__":
    main(sys.argv[1])
