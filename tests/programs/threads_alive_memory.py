"""Starts THREADS threads that all wait on one Event, twice, and reports the process's resident
memory before the second round starts and once it is all alive (and the helper has seen them).
The first round leaves freed memory behind, which the second round's allocations reuse, as a
program that keeps starting threads does.

Usage: threads_alive_memory.py TRUTH_JSON [THREADS]
"""
import json
import sys
import threading
import time

THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def resident_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def round_of(count, measure):
    gate = threading.Event()
    threads = [threading.Thread(target=gate.wait) for _ in range(count)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # several beats of the helper with all of them alive
    alive_kb = measure()
    gate.set()
    for thread in threads:
        thread.join()
    return alive_kb


round_of(THREADS, resident_kb)
before_kb = resident_kb()
alive_kb = round_of(THREADS, resident_kb)
with open(sys.argv[1], "w") as out:
    json.dump({"before_kb": before_kb, "alive_kb": alive_kb}, out)
