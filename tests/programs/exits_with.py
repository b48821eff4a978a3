"""Works for a moment, then calls sys.exit(N) with N from argv[1], or os._exit(N) when argv[2]
is "os_exit" (which skips every cleanup of the interpreter)."""
import os
import sys

ITERATIONS = 2_000_000  # about 0.25 s of bytecode at module level

acc = 0
for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: work
if sys.argv[2:] == ["os_exit"]:
    os._exit(int(sys.argv[1]))
sys.exit(int(sys.argv[1]))
