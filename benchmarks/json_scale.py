"""How long the engine takes to write the profile document of a big program.

Generates a program of --functions functions of 10 lines each, every line allocating a small
list (8 KB: at a memory sample every 1 KB, every line is measured), runs it under
`heatline --memory-sampling-rate 1024`, and at its end has it time the engine's writer from inside
the profiled process: heatline._core.snapshot() returns the document as JSON text, written by
the C writer the run's end uses (profile.c). Prints the profiled lines the document holds, its
size, and the median time of --repetitions snapshots.

Usage: python3 benchmarks/json_scale.py [--functions 100,500,2000] [--repetitions 5]
Uses the heatline of this checkout's .venv (`make install`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import benchenv

LINES_PER_FUNCTION = 10

TIMER = """
import json, statistics, sys, time
from heatline import _core
seconds = []
for _ in range({repetitions}):
    started = time.perf_counter()
    text = _core.snapshot(None)
    seconds.append(time.perf_counter() - started)
document = json.loads(text)
lines = sum(len(file["lines"]) for file in document["files"].values())
print(json.dumps({{"lines": lines, "bytes": len(text), "seconds": statistics.median(seconds)}}))
"""


def program(functions: int, repetitions: int) -> str:
    parts = []
    for number in range(functions):
        body = "\n".join(f"    kept.append([{line}] * {1000 + line})" for line in range(LINES_PER_FUNCTION - 1))
        parts.append(f"def f{number}(kept):\n{body}\n")
    calls = "kept = []\n" + "".join(f"f{number}(kept)\n" for number in range(functions))
    return "".join(parts) + calls + TIMER.format(repetitions=repetitions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=lambda s: [int(x) for x in s.split(",")], default=[100, 500, 2000])
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    heatline = benchenv.checkout_bin("heatline", "json_scale.py")
    print("| functions | profiled lines | document | writer (median) |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as directory:
        for functions in args.functions:
            path = Path(directory) / f"big_{functions}.py"
            path.write_text(program(functions, args.repetitions))
            done = subprocess.run([str(heatline), "--json", "--outfile", str(Path(directory) / "p.json"),
                                   "--memory-sampling-rate", "1024", str(path)],
                                  capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"| {functions:,} | {result['lines']:,} | {result['bytes'] / 2**20:.2f} MB"
                  f" | {result['seconds'] * 1e3:,.0f} ms |")


if __name__ == "__main__":
    main()
