"""Known call structure for the call-stack formats: `a` calls `b` (one unit of Python work)
and `c` (two units), each doing its work on its own lines; `allocate` then makes 48 buffers of
1 MB and keeps them (the peak).

Usage: formats_truth.py
"""

UNIT_ITERATIONS = 1_500_000  # about 0.1 s of bytecode on a current x86-64 core
BUFFERS = 48
BUFFER_BYTES = 1 << 20


def b():
    acc = 0
    for i in range(UNIT_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: b
    return acc


def c():
    acc = 0
    for i in range(2 * UNIT_ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: c
    return acc


def a():
    return b() + c()  # line: a


def allocate():
    kept = []
    for _ in range(BUFFERS):
        kept.append(bytearray(BUFFER_BYTES))  # line: allocate
    return kept


if __name__ == "__main__":
    a()
    buffers = allocate()
