"""Decorates one of two functions with @heatline.profile. Calls the decorated function with no
session running, then both functions inside a session, with the same arguments.

Usage: api_decorator.py OUT_JSON
Writes {"profile": document, "name": decorated.__name__, "results": [without, within],
"within_s", "without_s": thread CPU seconds of the decorated call inside and outside it}.
In a plain python process the call made with no session running is profiled by the decorator
itself, and its report is printed to stderr at exit.
"""
import json
import sys
import time

import heatline

ITERATIONS = 7_000_000  # about 0.3 s of bytecode in a function on a current x86-64 core


@heatline.profile
def decorated(offset, *, scale=1):
    acc = offset
    for i in range(ITERATIONS): acc = (acc * 41 + i) % 1000037  # line: decorated
    return acc * scale


def undecorated():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: undecorated
    return acc


t0 = time.thread_time()
without_session = decorated(5, scale=2)
without_s = time.thread_time() - t0
with heatline.profiling() as session:
    t0 = time.thread_time()
    within_session = decorated(5, scale=2)
    within_s = time.thread_time() - t0
    undecorated()
with open(sys.argv[1], "w") as out:
    json.dump({"profile": session.profile, "name": decorated.__name__,
               "results": [without_session, within_session], "within_s": within_s, "without_s": without_s}, out)
