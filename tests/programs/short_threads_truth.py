"""Starts 20,000 threads one after another; each burns about 0.2 ms of CPU on one line.

Usage: short_threads_truth.py TRUTH_JSON [THREADS]
Writes the sum of the threads' CPU seconds on that line (time.thread_time() around it, measured
by each thread itself) and the number of threads.
"""
import json
import sys
import threading
import time

THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
ITERATIONS = 4_000  # about 0.2 ms of bytecode on a current x86-64 core

cpu_s = []


def short_task():
    acc = 0
    c0 = time.thread_time()
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: run
    cpu_s.append(time.thread_time() - c0)


for _ in range(THREADS):
    thread = threading.Thread(target=short_task)
    thread.start()
    thread.join()
with open(sys.argv[1], "w") as out:
    json.dump({"run_s": sum(cpu_s), "threads": len(cpu_s)}, out)
