"""Does heatline's memory stay bounded over a long run? A service-like program, profiled for an hour.

Generates a program of --functions functions in --files files that, until --minutes have passed,
runs short phases: a random call path of 1 to 12 of those functions, each doing a little
arithmetic and allocating a list, part of which a bounded cache (the newest 2,000 lists) keeps;
then it sleeps 4 ms. So it keeps calling new stacks, allocating and freeing, at about a fifth
of a core, with steady live memory of its own. The same program runs plain and under
`heatline --json` side by side, in real time (no shortened clock). Every --every seconds the
resident memory of both (VmRSS) is read; the table gives it, with heatline's part (the
difference), and, at the end, the size of the profile document and its stacks.

Usage: python3 benchmarks/long_run.py [--minutes 60] [--every 300]
Uses the heatline of this checkout's .venv (`make install`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchenv


MAIN = """\
import collections, random, sys, time
{imports}
FUNCTIONS = [{names}]
cache = collections.deque(maxlen=2000)
deadline = time.monotonic() + float(sys.argv[1])
chooser = random.Random(1)
while time.monotonic() < deadline:
    path = [chooser.choice(FUNCTIONS) for _ in range(chooser.randint(1, 12))]
    path[0](path[1:], cache)
    time.sleep(0.004)
"""

FUNCTION = """\
def {name}(rest, cache):
    total = 0
    for i in range({work}):
        total += i * i % 7
    cache.append([total] * {size})
    if rest:
        rest[0](rest[1:], cache)
"""


def write_program(directory: Path, functions: int, files: int) -> Path:
    names = []
    for file in range(files):
        names_here = [f"f{file}_{number}" for number in range(functions // files)]
        chooser = __import__("random").Random(file)
        (directory / f"part{file}.py").write_text("\n\n".join(
            FUNCTION.format(name=name, work=chooser.randint(20, 200), size=chooser.randint(10, 400))
            for name in names_here))
        names += [(file, name) for name in names_here]
    imports = "\n".join(f"from part{file} import {', '.join(n for f, n in names if f == file)}" for file in range(files))
    main = directory / "service.py"
    main.write_text(MAIN.format(imports=imports, names=", ".join(name for _, name in names)))
    return main


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=300.0, help="seconds between readings")
    parser.add_argument("--functions", type=int, default=400)
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    heatline = benchenv.checkout_bin("heatline", "long_run.py")
    python = benchenv.checkout_bin("python", "long_run.py")
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        program = write_program(directory, args.functions, args.files)
        document = directory / "profile.json"
        plain = subprocess.Popen([str(python), str(program), str(seconds)], cwd=directory)
        profiled = subprocess.Popen([str(heatline), "--json", "--outfile", str(document), str(program),
                                     str(seconds)], cwd=directory, stdout=subprocess.DEVNULL)
        started = time.monotonic()
        print("| minutes | plain RSS | heatline RSS | heatline's part |", flush=True)
        print("|---:|---:|---:|---:|", flush=True)
        next_reading = 60.0
        while plain.poll() is None and profiled.poll() is None:
            elapsed = time.monotonic() - started
            if elapsed >= next_reading:
                plain_mb, profiled_mb = rss_mb(plain.pid), rss_mb(profiled.pid)
                print(f"| {elapsed / 60:.0f} | {plain_mb:.1f} MB | {profiled_mb:.1f} MB | {profiled_mb - plain_mb:.1f} MB |",
                      flush=True)
                next_reading += args.every
            time.sleep(1.0)
        plain.wait()
        if profiled.wait() != 0:
            sys.exit(f"long_run.py: heatline exited with status {profiled.returncode}")
        stacks = json.loads(document.read_text())["stacks"]
        print(f"\nprofile document: {document.stat().st_size / 2**20:.2f} MB; {len(stacks['stacks']):,} stacks"
              f" (of at most {stacks['limit']:,}), {stacks['merged']['credits']:,} credits merged into shorter"
              " ones", flush=True)


if __name__ == "__main__":
    main()
