"""Profiles part of itself with heatline's API; writes what the API returned as JSON.

Usage: api_session.py start_stop|context OUT_JSON
start_stop: heatline.start() ... heatline.stop().  context: with heatline.profiling() as session.
Writes {"profile": document}. (api_options.py exercises the options.)
Nothing here is decorated: once anything is, sessions report only decorated functions.
"""
import json
import sys

import heatline

ITERATIONS = 7_000_000  # about 0.3 s of bytecode in a function on a current x86-64 core


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


if __name__ == "__main__":
    mode, out_path = sys.argv[1], sys.argv[2]
    document = {"start_stop": start_stop, "context": context}[mode]()
    with open(out_path, "w") as out:
        json.dump({"profile": document}, out)
