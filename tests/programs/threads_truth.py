"""Truth for threads: two threads do 1:2 amounts of Python work on their own lines; main joins.

Usage: threads_truth.py [TRUTH_JSON]
Each worker measures its own CPU seconds (time.thread_time()), wall seconds and run-queue
delay around its loop line and records its thread ids; main measures the same around join().
The run-queue delay (time ready to run while every CPU was busy with other work) is the second
field of /proc/self/task/TID/schedstat, in ns; it is None where that file is missing. Wall minus
CPU minus run-queue delay is then the time the thread waited for the program itself: for the
GIL (workers) or in join() (main).
Standard library only, and runs on Python 3.9+ (tests/smoke.sh profiles it on each version).
"""
import json
import sys
import threading
import time

UNIT_ITERATIONS = 9_000_000  # about 0.4 s of bytecode in a function on a current x86-64 core

truth = {}


def run_queue_delay_s():
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as stats:
            return int(stats.read().split()[1]) / 1e9
    except OSError:
        return None


def light_worker():
    acc = 0
    w0, c0, q0 = time.perf_counter(), time.thread_time(), run_queue_delay_s()
    for i in range(1 * UNIT_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: light
    record("light", w0, c0, q0, acc)


def heavy_worker():
    acc = 0
    w0, c0, q0 = time.perf_counter(), time.thread_time(), run_queue_delay_s()
    for i in range(2 * UNIT_ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: heavy
    record("heavy", w0, c0, q0, acc)


def record(name, wall_start, cpu_start, queue_start, checksum):
    truth[name] = {"cpu_s": time.thread_time() - cpu_start,
                   "wall_s": time.perf_counter() - wall_start,
                   "run_queue_s": queue_delta_s(queue_start),
                   "ident": threading.get_ident(), "native_id": threading.get_native_id(),
                   "checksum": checksum}


def queue_delta_s(queue_start):
    queue_end = run_queue_delay_s()
    return None if queue_start is None or queue_end is None else queue_end - queue_start


def main():
    workers = [threading.Thread(target=light_worker), threading.Thread(target=heavy_worker)]
    for worker in workers:
        worker.start()
    w0, c0, q0 = time.perf_counter(), time.thread_time(), run_queue_delay_s()
    for worker in workers: worker.join()  # line: join
    truth["join"] = {"wall_s": time.perf_counter() - w0, "cpu_s": time.thread_time() - c0,
                     "run_queue_s": queue_delta_s(q0)}
    truth["main"] = {"ident": threading.get_ident(), "native_id": threading.get_native_id()}
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as out:
            json.dump(truth, out)
    print("threads done")


if __name__ == "__main__":
    main()
