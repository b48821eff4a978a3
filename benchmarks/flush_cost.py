"""What a child process pays for being flushed every second (issue 9).

A child of a profiled run rewrites its whole profile document once a second (session.c), so
that SIGKILL loses at most a second. The helper thread does it, with the session's lock held, so
its cost is CPU time taken from the program (on a busy machine) and a pause of the helper's beat.
This measures that cost against the size of the profile: a generated program executes N distinct
lines under heatline (the API, in this process), then the engine writes the document (the same
writer a flush calls) 20 times; the table gives the median time per write, the document's size
and the share of a second one write takes. The engine spaces the writes so that this share stays
under 2% (every second, or 50 times the last write's time when that is longer).

Usage: python3 benchmarks/flush_cost.py [--lines 100,1000,10000,20000]
Run it with the Python that has heatline installed (the benchmark venv's, or .venv's).
"""

from __future__ import annotations

import argparse
import statistics
import time


def program_with_lines(count: int) -> str:
    """A function of `count` lines that each allocate a little (so every line has memory too)."""
    body = "\n".join(f"    x{i} = [{i}] * 64" for i in range(count))
    return f"def work():\n{body}\n    return 0\n"


def measure(count: int, repetitions: int) -> tuple[float, int]:
    import heatline
    from heatline import _core

    namespace: dict = {}
    exec(compile(program_with_lines(count), "/tmp/heatline_flush_cost_program.py", "exec"), namespace)
    heatline.start(profile_all=True, memory_sampling_rate=4096)
    for _ in range(20):
        namespace["work"]()
    times = []
    size = 0
    for _ in range(repetitions):
        started = time.perf_counter()
        text = _core.snapshot(None)
        times.append(time.perf_counter() - started)
        size = len(text)
    heatline.stop()
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=lambda s: [int(x) for x in s.split(",")], default=[100, 1000, 10000, 20000])
    parser.add_argument("--repetitions", type=int, default=20)
    args = parser.parse_args()
    print("lines run   document    one write   share of the 1 s between writes")
    for count in args.lines:
        seconds, size = measure(count, args.repetitions)
        print(f"{count:>9}  {size / 1024:>7.0f} KB  {seconds * 1e3:>8.2f} ms  {seconds * 100:>8.2f}%")


if __name__ == "__main__":
    main()
