"""Record the README's demo output: `heatline examples/demo.py` as a user types it.

Runs the heatline of this checkout's .venv (`make install` builds it) from the repository root,
plain (no color: the output is not a terminal and NO_COLOR is set) and COLUMNS wide, and writes
the output, the command, the commit and whether the tree differed from it to
benchmarks/results/demo-<UTC time>.json. `benchmarks/report.py --write` puts the latest one into
the README.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import benchenv

DEMO_PROGRAM = "examples/demo.py"
DEFAULT_COLUMNS = 100
HEATLINE = benchenv.REPO_ROOT / ".venv" / "bin" / "heatline"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--columns", type=int, default=DEFAULT_COLUMNS,
                        help=f"width of the report (default {DEFAULT_COLUMNS})")
    args = parser.parse_args()
    if not HEATLINE.exists():
        sys.exit(f"demo.py: no {HEATLINE.relative_to(benchenv.REPO_ROOT)}; run `make install` first")

    git = benchenv.git_state()
    env = {**os.environ, "COLUMNS": str(args.columns), "NO_COLOR": "1"}
    started = time.time()
    done = subprocess.run([str(HEATLINE), DEMO_PROGRAM], cwd=benchenv.REPO_ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"demo.py: heatline {DEMO_PROGRAM} exited with status {done.returncode}:\n{done.stderr}")
    version = subprocess.run([str(HEATLINE), "--version"], capture_output=True, text=True, check=True)
    python = subprocess.run([str(HEATLINE.parent / "python"), "-c", "import platform; print(platform.python_version())"],
                            capture_output=True, text=True, check=True)
    document = {
        "schema": "heatline-bench-demo/1",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "git": git,
        "command": f"heatline {DEMO_PROGRAM}",
        "columns": args.columns,
        "heatline_version": version.stdout.strip(),
        "python_version": python.stdout.strip(),
        "output": done.stdout,
    }
    path = benchenv.write_results("demo", document)
    print(done.stdout, end="")
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
