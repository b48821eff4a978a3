"""Truth for leaks: in one loop, one line keeps every 1 MB buffer it allocates (in a global
list) and the next line allocates and frees the same buffers.

Usage: mem_leak_truth.py TRUTH_JSON
Writes the MB the leaking line kept and the seconds the loop took, so its rate of growth.
The buffers are never written to (np.empty is malloc): 100 MB of address space, not of RAM.
"""
import json
import sys
import time

import numpy as np

MB = 1 << 20
BUFFER_BYTES = MB
ITERATIONS = 100
PAUSE_S = 0.012  # about 1.3 s in all, so the leaking line's memory grows over time

leaked = []


def main(truth_path):
    started = time.perf_counter()
    for _ in range(ITERATIONS):
        leaked.append(np.empty(BUFFER_BYTES, dtype=np.uint8))  # line: leaks
        scratch = np.empty(BUFFER_BYTES, dtype=np.uint8); del scratch  # line: frees
        time.sleep(PAUSE_S)
    loop_s = time.perf_counter() - started
    with open(truth_path, "w") as out:
        json.dump({"leaked_mb": sum(buffer.nbytes for buffer in leaked) / MB,
                   "loop_s": loop_s}, out)


if __name__ == "__main__":
    main(sys.argv[1])
