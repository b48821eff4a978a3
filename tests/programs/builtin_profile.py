"""Decorates one of two functions for heatline: with the `profile` builtin that the heatline
command provides, or with heatline.profile when run with --import.

Only under the heatline command: python3 has no `profile` builtin.
"""
import sys

ITERATIONS = 7_000_000  # about 0.3 s of bytecode in a function on a current x86-64 core

if "--import" in sys.argv:
    import heatline
    profile = heatline.profile


@profile
def decorated():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: decorated
    return acc


def undecorated():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: undecorated
    return acc


decorated()
undecorated()
module_acc = 0
for i in range(ITERATIONS // 3): module_acc = (module_acc * 41 + i) % 1000037  # line: module
