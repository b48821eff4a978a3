"""Run with heatline --off: works, turns profiling on with heatline.start(), works again."""
import heatline

ITERATIONS = 3_000_000  # about 0.35 s of bytecode at module level

acc = 0
for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: before
heatline.start()
for i in range(ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: after
