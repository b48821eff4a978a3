"""Truth for a CPU-bound line that shares its CPU with a busy process: it is ready to run half
the time without running (run-queue delay), yet it waits for nothing and makes no system calls.

Usage: contended_truth.py TRUTH_JSON
Pins its main thread and a busy `sh` loop to one CPU, then writes, around the marked line: its
thread CPU seconds, its kernel CPU seconds (getrusage), its run-queue delay (the second field of
/proc/self/task/TID/schedstat) and its wall seconds. Linux only.
"""
import json
import os
import resource
import subprocess
import sys
import threading
import time

ITERATIONS = 7_000_000  # about 0.3 s of bytecode in a function on a current x86-64 core


def run_queue_delay_s():
    with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as stats:
        return int(stats.read().split()[1]) / 1e9


def work():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: contended
    return acc


def main(truth_path):
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # this thread only: heatline's helper keeps its CPUs
    rival = subprocess.Popen(["sh", "-c", "while :; do :; done"])
    try:
        os.sched_setaffinity(rival.pid, {cpu})
        w0, c0, q0 = time.perf_counter(), time.thread_time(), run_queue_delay_s()
        k0 = resource.getrusage(resource.RUSAGE_THREAD).ru_stime
        checksum = work()
        k1 = resource.getrusage(resource.RUSAGE_THREAD).ru_stime
        truth = {"cpu_s": time.thread_time() - c0, "kernel_s": k1 - k0,
                 "run_queue_s": run_queue_delay_s() - q0, "wall_s": time.perf_counter() - w0,
                 "checksum": checksum}
    finally:
        rival.kill()
        rival.wait()
    with open(truth_path, "w") as out:
        json.dump(truth, out)


if __name__ == "__main__":
    main(sys.argv[1])
