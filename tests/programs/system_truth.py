"""Truth for system (off-CPU) time: a sleep, a select on an empty pipe and a recv that waits
for a peer thread, each on its own line.

Usage: system_truth.py TRUTH_JSON
For each marked line writes `NAME_blocked_s`, how long the call blocked by time.monotonic()
around it less the run-queue delay in that time (the second field of
/proc/self/task/TID/schedstat: time ready to run while every CPU was busy, which is the
machine's contention, not the program's wait; taken as 0 where the file is missing), and
`NAME_cpu_s`, its thread CPU seconds.
"""
import json
import os
import select
import socket
import sys
import threading
import time

SLEEP_S = 0.5
SELECT_TIMEOUT_S = 0.3
RECV_WAIT_S = 0.3


def run_queue_delay_s():
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as stats:
            return int(stats.read().split()[1]) / 1e9
    except OSError:
        return 0.0


def readings():
    return time.monotonic(), run_queue_delay_s(), time.thread_time()


def record(truth, name, before, after):
    truth[f"{name}_blocked_s"] = (after[0] - before[0]) - (after[1] - before[1])
    truth[f"{name}_cpu_s"] = after[2] - before[2]


def wait_three_times():
    truth = {}
    read_end, write_end = os.pipe()
    ours, peers = socket.socketpair()
    peer = threading.Timer(RECV_WAIT_S, peers.sendall, args=(b"x",))
    r0 = readings()
    time.sleep(SLEEP_S)  # line: sleep
    r1 = readings()
    ready, _, _ = select.select([read_end], [], [], SELECT_TIMEOUT_S)  # line: select
    r2 = readings()
    peer.start()
    r3 = readings()
    received = ours.recv(1)  # line: recv
    r4 = readings()
    record(truth, "sleep", r0, r1)
    record(truth, "select", r1, r2)
    record(truth, "recv", r3, r4)
    peer.join()
    for end in (read_end, write_end):
        os.close(end)
    ours.close()
    peers.close()
    assert not ready, "nothing was written to the pipe, so select must time out"
    assert received == b"x"
    return truth


if __name__ == "__main__":
    truth = wait_three_times()
    with open(sys.argv[1], "w") as out:
        json.dump(truth, out)
