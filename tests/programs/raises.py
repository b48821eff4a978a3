"""Works for a moment, then raises an exception nobody catches."""
ITERATIONS = 2_000_000  # about 0.25 s of bytecode at module level

acc = 0
for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: work


def fail(value):
    raise ValueError(f"the program failed on purpose with {value}")


fail(acc)
