"""Decorates one of two functions with @heatline.profile and calls both inside a session; the
decorated function is also called with no session running, with the same arguments.

Usage: api_decorator.py OUT_JSON
Writes {"profile": document, "name": decorated.__name__, "results": [without, within]}.
"""
import json
import sys

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


without_session = decorated(5, scale=2)
with heatline.profiling() as session:
    within_session = decorated(5, scale=2)
    undecorated()
with open(sys.argv[1], "w") as out:
    json.dump({"profile": session.profile, "name": decorated.__name__,
               "results": [without_session, within_session]}, out)
