"""A pool of workers most of which wait for work, with its truth.

Usage: idle_pool.py TRUTH_JSON MODE, MODE "threads" (concurrent.futures.ThreadPoolExecutor) or
"processes" (multiprocessing.Pool, fork). The pool has WORKERS workers, all started by a first
round of tiny tasks; then TASKS tasks burn CPU on the line marked `burn`, each measuring its
own thread CPU time, while the other workers wait for work, and the main thread waits for the
results on the line marked `wait`, measuring its wall time. Writes {"burn_s": the tasks' CPU
time summed, "wait_s": the main thread's wall time at `wait`, "idle_workers": WORKERS - TASKS}.
"""
import concurrent.futures
import json
import multiprocessing
import sys
import time

WORKERS = 8
TASKS = 2
ITERATIONS = 1_500_000  # about 0.15-0.3 s of CPU a task here


def tiny(_):
    time.sleep(0.02)  # long enough that every worker gets one: all of them start


def burn(n):
    start = time.thread_time()
    total = 0
    for i in range(n):
        total = (total + i * i) % 1000003  # line: burn
    return time.thread_time() - start


def main():
    truth_path, mode = sys.argv[1], sys.argv[2]
    if mode == "threads":
        pool = concurrent.futures.ThreadPoolExecutor(WORKERS)
    else:
        pool = multiprocessing.get_context("fork").Pool(WORKERS)
    with pool:
        list(pool.map(tiny, range(WORKERS)))
        start = time.perf_counter()
        burned = list(pool.map(burn, [ITERATIONS] * TASKS))  # line: wait
        wait_s = time.perf_counter() - start
    with open(truth_path, "w") as truth:
        json.dump({"burn_s": sum(burned), "wait_s": wait_s, "idle_workers": WORKERS - TASKS}, truth)


if __name__ == "__main__":
    main()
