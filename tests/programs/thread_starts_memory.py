"""Starts 10,000 threads, 20 at a time, and reports the process's resident memory before and after.

Usage: thread_starts_memory.py TRUTH_JSON
"""
import json
import sys
import threading


def resident_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def task():
    sum(range(100))


def start_batches(batches):
    for _ in range(batches):
        batch = [threading.Thread(target=task) for _ in range(20)]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()


start_batches(50)  # the allocator's and the interpreter's own first growth
before_kb = resident_kb()
start_batches(500)
with open(sys.argv[1], "w") as out:
    json.dump({"before_kb": before_kb, "after_kb": resident_kb()}, out)
