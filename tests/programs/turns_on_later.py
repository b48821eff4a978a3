"""Run with heatline --off: works, turns profiling on with heatline.start(), works again.

Usage: turns_on_later.py [TRUTH_JSON]
Writes the thread CPU seconds of the line that runs after heatline.start().
"""
import json
import sys
import time

import heatline

ITERATIONS = 3_000_000  # about 0.35 s of bytecode at module level

acc = 0
for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: before
heatline.start()
t0 = time.thread_time()
for i in range(ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: after
after_s = time.thread_time() - t0
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as out:
        json.dump({"after_s": after_s, "checksum": acc}, out)
