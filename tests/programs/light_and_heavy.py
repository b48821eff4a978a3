"""One heavy line and one light line (about 0.5% of the heavy one) for --reduced-profile.

The loop variables heavy_i and feather_i name the two lines in a text report.
"""
HEAVY_ITERATIONS = 33_000_000  # about 2.5 s of bytecode at module level
LIGHT_ITERATIONS = 165_000  # 0.5% of the heavy line: 3 samples (+-1) at 4 ms, always under 1%

acc = 0
for heavy_i in range(HEAVY_ITERATIONS): acc = (acc * 31 + heavy_i) % 1000003  # line: heavy
for feather_i in range(LIGHT_ITERATIONS): acc = (acc * 37 + feather_i) % 1000033  # line: light
print("done")
