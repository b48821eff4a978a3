"""Truth for system (off-CPU) time: a sleep and a select on an empty pipe, each on its own line.

Usage: system_truth.py TRUTH_JSON
Writes the wall seconds (time.perf_counter()) and thread CPU seconds of each marked line.
"""
import json
import os
import select
import sys
import time

SLEEP_S = 0.5
SELECT_TIMEOUT_S = 0.3


def wait_twice():
    read_end, write_end = os.pipe()
    w0, c0 = time.perf_counter(), time.thread_time()
    time.sleep(SLEEP_S)  # line: sleep
    w1, c1 = time.perf_counter(), time.thread_time()
    ready, _, _ = select.select([read_end], [], [], SELECT_TIMEOUT_S)  # line: select
    w2, c2 = time.perf_counter(), time.thread_time()
    os.close(read_end)
    os.close(write_end)
    assert not ready, "nothing was written to the pipe, so select must time out"
    return {"sleep_wall_s": w1 - w0, "sleep_cpu_s": c1 - c0,
            "select_wall_s": w2 - w1, "select_cpu_s": c2 - c1}


if __name__ == "__main__":
    truth = wait_twice()
    with open(sys.argv[1], "w") as out:
        json.dump(truth, out)
