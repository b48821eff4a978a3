"""One heavy line and one light line (about 0.5% of the heavy one) for --reduced-profile.

Usage: light_and_heavy.py [SCALE]
SCALE (default 1) multiplies the work of both lines, for kernels whose tick is longer than
4 ms. The loop variables heavy_i and feather_i name the two lines in a text report.
"""
import sys

SCALE = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
HEAVY_ITERATIONS = int(33_000_000 * SCALE)  # about 2.5 s of bytecode at module level
LIGHT_ITERATIONS = int(165_000 * SCALE)  # 0.5% of the heavy line: about 3 ticks of 4 ms

acc = 0
for heavy_i in range(HEAVY_ITERATIONS): acc = (acc * 31 + heavy_i) % 1000003  # line: heavy
for feather_i in range(LIGHT_ITERATIONS): acc = (acc * 37 + feather_i) % 1000033  # line: light
print("done")
