"""Truth for what "native" means: the interpreter's work to run Python code is Python time, a
builtin the line calls is native time.

Usage: native_rule_truth.py TRUTH_JSON
The "classes" loop builds and drops objects of a pure-Python class (raytrace's Vector, in small):
object creation, calls of Python functions and methods, attribute lookups and deallocation, all
work of the interpreter, no builtin of any weight. The "sorted" line calls one builtin, once,
that does its work inside the interpreter's own library (a list sort of floats): native. Writes
each part's thread CPU seconds.
"""
import json
import random
import sys
import time

STEPS = 1_200_000
FLOATS = 2_000_000


class Vector:
    def __init__(self, x, y, z):
        self.x = x
        self.y = y
        self.z = z

    def plus(self, other):
        return Vector(self.x + other.x, self.y + other.y, self.z + other.z)

    def scaled(self, k):
        return Vector(self.x * k, self.y * k, self.z * k)

    def dot(self, other):
        return self.x * other.x + self.y * other.y + self.z * other.z


def classes():
    position, step, total = Vector(0.0, 0.0, 0.0), Vector(0.1, 0.2, 0.3), 0.0
    for _ in range(STEPS):
        position = position.plus(step.scaled(0.5))  # line: classes
        total += position.dot(step)
    return total


def main(truth_path):
    generator = random.Random(2)
    floats = [generator.random() for _ in range(FLOATS)]
    t0 = time.thread_time()
    classes()
    t1 = time.thread_time()
    ordered = sorted(floats)  # line: sorted
    t2 = time.thread_time()
    with open(truth_path, "w") as truth:
        json.dump({"classes_s": t1 - t0, "sorted_s": t2 - t1, "smallest": ordered[0]}, truth)


if __name__ == "__main__":
    main(sys.argv[1])
