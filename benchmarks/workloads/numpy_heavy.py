"""NumPy-heavy workload: large array operations in NumPy's C code, plus many small NumPy calls.

The large operations measure what a profiler costs while time is spent in native code; the
small ones (a Python loop over tiny arrays) measure its cost per Python-to-C call.
"""

import argparse

import numpy as np


def large_operations(rng: np.random.Generator, size: int) -> float:
    matrix = rng.standard_normal((size, size))
    vector = rng.standard_normal(size * size)
    product = matrix @ matrix
    spectrum = np.fft.rfft(vector)
    ordered = np.sort(vector)
    combined = np.sqrt(np.abs(vector)) * 2.5 + ordered
    return float(np.trace(product) + spectrum.real.sum() + combined.mean())


def small_operations(rng: np.random.Generator, count: int) -> float:
    total = 0.0
    for _ in range(count):
        values = rng.random(16)
        total += float(np.dot(values, values) + values.max() - values.min())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30, help="repetitions of the whole workload")
    parser.add_argument("--size", type=int, default=400, help="side of the square matrices")
    parser.add_argument("--small-calls", type=int, default=8000, help="small-array iterations per round")
    args = parser.parse_args()
    rng = np.random.default_rng(12345)
    checksum = 0.0
    for _ in range(args.rounds):
        checksum += large_operations(rng, args.size)
        checksum += small_operations(rng, args.small_calls)
    print(f"checksum {checksum:.6e}")


if __name__ == "__main__":
    main()
