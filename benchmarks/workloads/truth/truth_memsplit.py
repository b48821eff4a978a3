"""Truth program: one line allocating only through Python's allocator, one only through malloc.

Many small Python objects on the first line (Python fraction 1), NumPy arrays on the second
(Python fraction 0). The truth is written as JSON to the file named on the command line
("# truth:" comments name the measured lines).
"""

import argparse
import json

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("truth", help="JSON file that receives the measured truth")
    parser.add_argument("--rounds", type=int, default=40, help="repetitions of the two lines")
    args = parser.parse_args()
    for _ in range(args.rounds):
        words = [str(i) * 2 for i in range(100_000)]  # truth: python
        array = np.ones(1 << 20)  # truth: native
        del words, array
    with open(args.truth, "w") as out:
        json.dump({"unit": "fraction", "lines": {"python": 1.0, "native": 0.0}}, out)


if __name__ == "__main__":
    main()
