"""The case study: an accidental copy. Each draw of random numbers is wrapped in np.array(),
which copies the freshly drawn array into a second one before the first is thrown away.

Profile it with `heatline examples/numpy_copy.py`: the loop's line allocates two arrays for
every one it keeps, copies every byte it draws, and its memory climbs to three arrays at once
(the old x, the draw and its copy) before falling back, each time round: a sawtooth.
examples/numpy_copy_fixed.py is the same program without the np.array().
"""
import numpy as np

N = 16_000_000  # 122 MB of float64 per array
ITERATIONS = 5

for _ in range(ITERATIONS):
    x = np.array(np.random.uniform(0, 1, size=N))
print(f"mean of the last draw: {x.mean():.4f}")
