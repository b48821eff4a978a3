"""Truth for threads: two threads do 1:2 amounts of Python work on their own lines; main joins.

Usage: threads_truth.py [TRUTH_JSON]
Each worker measures its own CPU seconds (time.thread_time()) and wall seconds around its loop
line and records its thread ids; main measures the wall seconds it waits in join().
Standard library only, and runs on Python 3.9+ (tests/smoke.sh profiles it on each version).
"""
import json
import sys
import threading
import time

UNIT_ITERATIONS = 9_000_000  # about 0.4 s of bytecode in a function on a current x86-64 core

truth = {}


def light_worker():
    acc = 0
    w0, c0 = time.perf_counter(), time.thread_time()
    for i in range(1 * UNIT_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: light
    record("light", w0, c0, acc)


def heavy_worker():
    acc = 0
    w0, c0 = time.perf_counter(), time.thread_time()
    for i in range(2 * UNIT_ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: heavy
    record("heavy", w0, c0, acc)


def record(name, wall_start, cpu_start, checksum):
    truth[name] = {"cpu_s": time.thread_time() - cpu_start,
                   "wall_s": time.perf_counter() - wall_start,
                   "ident": threading.get_ident(), "native_id": threading.get_native_id(),
                   "checksum": checksum}


def main():
    workers = [threading.Thread(target=light_worker), threading.Thread(target=heavy_worker)]
    for worker in workers:
        worker.start()
    w0, c0 = time.perf_counter(), time.thread_time()
    for worker in workers: worker.join()  # line: join
    truth["join"] = {"wall_s": time.perf_counter() - w0, "cpu_s": time.thread_time() - c0}
    truth["main"] = {"ident": threading.get_ident(), "native_id": threading.get_native_id()}
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as out:
            json.dump(truth, out)
    print("threads done")


if __name__ == "__main__":
    main()
