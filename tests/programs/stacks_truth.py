"""Call stacks of known shape and cost.

Usage: stacks_truth.py OUT_JSON
main() calls heavy() and light(), which both call spin(): the same function through two paths.
It also calls into the standard library (fractions), sleeps, allocates a block it keeps, recurses
deeper than a stack keeps, and runs spin() in a thread. Writes the thread CPU seconds of each call
(time.thread_time around it) and the bytes kept.
"""
import json
import sys
import threading
import time
from fractions import Fraction

SLEEP_S = 0.3
KEPT_BYTES = 32 << 20
DEPTH = 400


def spin(n):
    acc = 0
    for i in range(n): acc = (acc * 31 + i) % 1000003  # line: spin
    return acc


def heavy():
    return spin(3_000_000)  # line: heavy-call


def light():
    return spin(1_000_000)  # line: light-call


def library():
    return sum(Fraction(i % 7, 11) for i in range(40_000))  # line: library-call


def sleeper():
    time.sleep(SLEEP_S)  # line: sleep


def allocate():
    return bytearray(KEPT_BYTES)  # line: allocate


def recurse(depth):
    if depth == 0:
        return spin(500_000)
    return recurse(depth - 1)  # line: recurse


def timed(function, *args):
    t0 = time.thread_time()
    result = function(*args)
    return time.thread_time() - t0, result


def main(out_path):
    sys.setrecursionlimit(DEPTH + 100)
    truth = {}
    truth["heavy_s"], _ = timed(heavy)
    truth["light_s"], _ = timed(light)
    truth["library_s"], _ = timed(library)
    sleeper()
    truth["recurse_s"], _ = timed(recurse, DEPTH)
    kept = allocate()
    thread_truth = {}

    def in_thread():
        thread_truth["thread_s"], _ = timed(spin, 1_000_000)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    truth.update(thread_truth, sleep_s=SLEEP_S, kept_bytes=len(kept), depth=DEPTH)
    with open(out_path, "w") as out:
        json.dump(truth, out)


if __name__ == "__main__":
    main(sys.argv[1])
