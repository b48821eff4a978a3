"""Truth for per-line shares: three lines in one function with 1:2:3 amounts of Python work.

Usage: line_shares_truth.py TRUTH_JSON
Writes the thread CPU seconds of each marked line (time.thread_time() around it). Each line is a
whole for loop of integer arithmetic, so its time can only belong to that line.
"""
import json
import sys
import time

UNIT_ITERATIONS = 4_500_000  # about 0.2 s of bytecode in a function on a current x86-64 core


def three_costs():
    acc = 0
    t0 = time.thread_time()
    for i in range(1 * UNIT_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: one
    t1 = time.thread_time()
    for i in range(2 * UNIT_ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: two
    t2 = time.thread_time()
    for i in range(3 * UNIT_ITERATIONS): acc = (acc * 41 + i) % 1000037  # line: three
    t3 = time.thread_time()
    return {"one_s": t1 - t0, "two_s": t2 - t1, "three_s": t3 - t2, "checksum": acc}  # line: end


if __name__ == "__main__":
    truth = three_costs()
    with open(sys.argv[1], "w") as out:
        json.dump(truth, out)
