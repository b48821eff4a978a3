"""Pure-Python workload of about 3 seconds: function calls, loops, integer and float arithmetic,
dicts, lists and strings, no C extension doing the work. Issue 2 measures heatline --cpu-only's
overhead on it (the sampler's steady cost, with start-up a small part of the run).
"""

import argparse


def collatz_lengths(limit: int) -> int:
    longest = 0
    for start in range(1, limit):
        n, steps = start, 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        longest = max(longest, steps)
    return longest


def word_counts(rounds: int) -> int:
    words = [f"w{i % 997}" for i in range(5000)]
    total = 0
    for _ in range(rounds):
        counts: dict[str, int] = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        total += len(counts)
    return total


def mandelbrot_rows(size: int) -> int:
    inside = 0
    for y in range(size):
        for x in range(size):
            c = complex(3.0 * x / size - 2.0, 2.0 * y / size - 1.0)
            z = 0j
            for _ in range(40):
                z = z * z + c
                if abs(z) > 2.0:
                    break
            else:
                inside += 1
    return inside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the amount of work")
    scale = parser.parse_args().scale
    print(collatz_lengths(int(500_000 * scale)), word_counts(int(700 * scale)),
          mandelbrot_rows(int(460 * scale ** 0.5)))


if __name__ == "__main__":
    main()
