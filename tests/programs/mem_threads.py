"""Eight threads allocate and free Python objects and NumPy buffers at the same time.

Usage: mem_threads.py TRUTH_JSON
Writes the bytes the Python line and the NumPy line allocated in all threads and how many
threads finished. The Python line makes ROWS objects of 512 bytes a batch (small objects: far
below any sampling rate) and nothing else: its list is made on the line before, and it walks a
list of indices made once (a range would make an int per step).
"""
import json
import sys
import threading

import numpy as np

MB = 1 << 20
THREADS = 8
ITERATIONS = 30
ARRAY_BYTES = 4 * MB  # never written to: address space, not RAM
ROWS = 2_048  # 1 MB of bytes objects a batch
DATA_BYTES = 479  # 33 bytes of header on 64-bit CPython: 512 bytes an object
INDICES = list(range(ROWS))

finished = []


def worker():
    for _ in range(ITERATIONS):
        rows = [None] * ROWS
        for i in INDICES: rows[i] = bytes(DATA_BYTES)  # line: thread-python
        array = np.empty(ARRAY_BYTES, dtype=np.uint8)  # line: thread-numpy
        del rows, array
    finished.append(threading.get_ident())


def main(truth_path):
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batches = THREADS * ITERATIONS
    with open(truth_path, "w") as out:
        json.dump({"python_bytes": batches * ROWS * sys.getsizeof(bytes(DATA_BYTES)),
                   "python_object_bytes": sys.getsizeof(bytes(DATA_BYTES)),
                   "numpy_bytes": batches * ARRAY_BYTES,
                   "threads_finished": len(finished)}, out)


if __name__ == "__main__":
    main(sys.argv[1])
