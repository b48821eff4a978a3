"""Works for a moment, then calls sys.exit(N) with N from argv[1]."""
import sys

ITERATIONS = 2_000_000  # about 0.25 s of bytecode at module level

acc = 0
for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: work
sys.exit(int(sys.argv[1]))
