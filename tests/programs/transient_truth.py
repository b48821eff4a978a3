"""Allocation that goes at once beside allocation that lasts, with its truth.

Usage: transient_truth.py TRUTH_JSON. `hot_arith` only counts: every integer above 256 it makes
(`i += 1`, `acc += ...`) is freed as soon as the next replaces it; `keeps` builds KEPT lists that
all stay alive to the end. Writes {"kept_bytes": the lists' bytes (sys.getsizeof)}.
"""
import json
import sys
import time

ARITH_ITERATIONS = 2_000_000
KEPT = 100_000
KEPT_AFTER_S = 0.2


def hot_arith(n):
    acc = 0
    i = 0
    while i < n:
        acc += i * 3 % 7  # line: arith-acc
        i += 1  # line: arith-i
    return acc


def keeps(n):
    kept = [None] * n
    for i in range(n):
        kept[i] = [i] * 100  # line: keep
    return kept


def main():
    hot_arith(ARITH_ITERATIONS)
    kept = keeps(KEPT)
    with open(sys.argv[1], "w") as truth:
        json.dump({"kept_bytes": sum(sys.getsizeof(item) for item in kept)}, truth)
    # The lists are freed as main returns: well after the helper's next batches, even when a
    # loaded machine makes it late, so that none of them is freed "at once".
    time.sleep(KEPT_AFTER_S)


if __name__ == "__main__":
    main()
