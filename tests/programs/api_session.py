"""Profiles part of itself with heatline's API; writes what the API returned as JSON.

Usage: api_session.py start_stop|context|options OUT_JSON
start_stop: heatline.start() ... heatline.stop().  context: with heatline.profiling() as session.
options: heatline.start() with cpu_sampling_interval=0.005 and profile_all=True around
standard-library work. Writes {"profile": document}.
Nothing here is decorated: once anything is, sessions report only decorated functions.
"""
import json
import sys
from fractions import Fraction

import heatline

ITERATIONS = 7_000_000  # about 0.3 s of bytecode in a function on a current x86-64 core
FRACTIONS = 200_000  # about 0.25 s in fractions.py (pure Python, standard library)


def outside_work():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: outside
    return acc


def inside_work():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: inside
    return acc


def start_stop():
    outside_work()
    heatline.start()
    inside_work()
    return heatline.stop()


def context():
    outside_work()
    with heatline.profiling() as session:
        inside_work()
    return session.profile


def options():
    heatline.start(cpu_sampling_interval=0.005, profile_all=True)
    sum(Fraction(i % 7, 11) for i in range(FRACTIONS))  # line: stdlib
    return heatline.stop()


if __name__ == "__main__":
    mode, out_path = sys.argv[1], sys.argv[2]
    document = {"start_stop": start_stop, "context": context, "options": options}[mode]()
    with open(out_path, "w") as out:
        json.dump({"profile": document}, out)
