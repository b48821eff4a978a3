"""Four tasks run in a ThreadPoolExecutor; the task's loop line is where their time belongs.

Usage: thread_pool_truth.py TRUTH_JSON
Writes the sum of the tasks' thread CPU seconds (time.thread_time() around the loop line).
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

TASKS = 4
ITERATIONS = 5_000_000  # about 0.2 s of bytecode in a function on a current x86-64 core


def task(seed):
    acc = seed
    c0 = time.thread_time()
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: task
    return time.thread_time() - c0


with ThreadPoolExecutor(max_workers=2) as pool:
    task_cpu_s = sum(pool.map(task, range(TASKS)))
with open(sys.argv[1], "w") as out:
    json.dump({"tasks_s": task_cpu_s}, out)
