"""Starts 1,000 short threads from C (pthread_create through ctypes), never through _thread.

Usage: c_started_threads.py TRUTH_JSON
Each thread runs a ctypes callback that burns about 1 ms of CPU; writes the sum of their CPU
seconds measured by the threads themselves (time.thread_time() around the line).
"""
import ctypes
import json
import sys
import time

THREADS = 1_000
ITERATIONS = 10_000

libc = ctypes.CDLL(None)
START = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
cpu_s = []


def burn(_argument):
    acc = 0
    c0 = time.thread_time()
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: burn
    cpu_s.append(time.thread_time() - c0)
    return None


start = START(burn)
for _ in range(THREADS):
    thread = ctypes.c_ulong()
    assert libc.pthread_create(ctypes.byref(thread), None, start, None) == 0
    libc.pthread_join(thread, None)
with open(sys.argv[1], "w") as out:
    json.dump({"burn_s": sum(cpu_s)}, out)
