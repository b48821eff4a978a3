"""A module of the program beside filter_main.py: its loop line is where its time belongs."""

HELPER_ITERATIONS = 9_000_000  # about 0.4 s of bytecode in a function on a current x86-64 core


def helper_work():
    acc = 0
    for i in range(HELPER_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: helper
    return acc
