"""Two memory profiling sessions with heatline's API in one process, and an allocation between
them that neither may count.

Usage: mem_api_session.py OUT_JSON
Writes {"profiles": [first, second], "buffer_bytes": ..., "between_bytes": ...}: the documents
the two heatline.stop() calls returned. The buffer allocated between the sessions is freed
during the second one: a free of memory the profiler never saw must not lower any count.
"""
import json
import sys

import numpy as np

import heatline

MB = 1 << 20
BUFFER_BYTES = 32 * MB
BETWEEN_BYTES = 64 * MB


def main(out_path):
    heatline.start()
    first_buffer = np.zeros(BUFFER_BYTES, dtype=np.uint8)  # line: first
    first = heatline.stop()
    between = np.zeros(BETWEEN_BYTES, dtype=np.uint8)  # line: between
    heatline.start()
    second_buffer = np.zeros(BUFFER_BYTES, dtype=np.uint8)  # line: second
    del between  # line: frees-between
    second = heatline.stop()
    with open(out_path, "w") as out:
        json.dump({"profiles": [first, second], "buffer_bytes": first_buffer.nbytes,
                   "second_buffer_bytes": second_buffer.nbytes,
                   "between_bytes": BETWEEN_BYTES}, out)


if __name__ == "__main__":
    main(sys.argv[1])
