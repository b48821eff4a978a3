"""Truth for line peaks: one line only ever holds one small object at a time, another holds
about 100 MB of small str objects at once, three times over (each time freed), so the peak is a
maximum over several rises.

Usage: mem_peak_truth.py TRUTH_JSON
Writes the bytes the holding line held at its highest (its strings and its list), measured with
sys.getsizeof.
"""
import json
import sys

STRINGS = 1_000_000
ROUNDS = 3
SMALL_ITERATIONS = 2_000_000


def churn():
    acc = 0
    for i in range(SMALL_ITERATIONS):
        acc = (acc * 31 + i) % 1000003  # line: one-at-a-time
    return acc


def hold():
    most = 0
    for round_number in range(ROUNDS):
        prefix = "x" * 40 + str(round_number)
        held = [prefix + str(i) for i in range(STRINGS)]  # line: holds
        size = sum(sys.getsizeof(s) for s in held) + sys.getsizeof(held)
        most = max(most, size)
        del held
    return most


def main(truth_path):
    churn()
    held_bytes = hold()
    with open(truth_path, "w") as out:
        json.dump({"held_bytes": held_bytes}, out)


if __name__ == "__main__":
    main(sys.argv[1])
