"""Recurses 10,000 frames deep, with a little work in every frame, several times over."""
import sys

DEPTH = 10_000
DESCENTS = 4
WORK_PER_FRAME = 200  # iterations: about 25 us per frame, so samples land at every depth

sys.setrecursionlimit(DEPTH + 1_000)


def descend(depth):
    acc = 0
    for i in range(WORK_PER_FRAME): acc = (acc * 31 + i) % 1000003  # line: frame-work
    if depth == 0:
        return acc
    return descend(depth - 1) + acc % 2


results = [descend(DEPTH) for _ in range(DESCENTS)]
print("deepest descent done:", len(results))
