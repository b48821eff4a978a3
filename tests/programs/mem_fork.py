"""Forks (without exec) while two threads allocate and free; each child allocates and leaves
with os._exit, the parent allocates on after the children are gone.

Usage: mem_fork.py TRUTH_JSON
Writes the children's exit statuses, the bytes the parent's marked line allocated and the
number of 1 MB buffers the churning threads' NumPy line allocated (while the children were
forked: a sample counted twice across a fork shows there). A child
exits with CHILD_STATUS only once its own allocations are done, so a child that hangs or dies
in the profiler's allocation hooks shows in its status (or in the parent never finishing).
"""
import json
import os
import sys
import threading

import numpy as np

MB = 1 << 20
CHILDREN = 4
CHILD_STATUS = 5
CHILD_BYTES = 16 * MB
PARENT_BYTES = 32 * MB


def churn(stop, buffer_counts):
    count = 0
    while not stop.is_set():
        buffers = [np.empty(MB, dtype=np.uint8) for _ in range(4)]  # line: churn-numpy
        names = [str(i) for i in range(1_000)]
        del buffers, names
        count += 4
    buffer_counts.append(count)


def child():
    array = np.ones(CHILD_BYTES, dtype=np.uint8)
    names = [str(i) for i in range(100_000)]
    os._exit(CHILD_STATUS if array.sum() == CHILD_BYTES and len(names) == 100_000 else 1)


def main(truth_path):
    stop = threading.Event()
    buffer_counts = []
    threads = [threading.Thread(target=churn, args=(stop, buffer_counts)) for _ in range(2)]
    for thread in threads:
        thread.start()
    statuses = []
    for _ in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            child()
        statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    stop.set()
    for thread in threads:
        thread.join()
    parent = np.zeros(PARENT_BYTES, dtype=np.uint8)  # line: parent
    with open(truth_path, "w") as out:
        json.dump({"child_statuses": statuses, "parent_bytes": parent.nbytes,
                   "churn_buffers": sum(buffer_counts), "buffer_bytes": MB}, out)


if __name__ == "__main__":
    main(sys.argv[1])
