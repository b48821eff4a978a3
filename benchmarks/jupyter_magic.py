"""What %%heatline costs a cell: wall time of the same cells run plain and under the magic.

Runs IPython's InteractiveShell in a child process of the interpreter that runs this script
(heatline and IPython installed: `.venv/bin/python benchmarks/jupyter_magic.py`), one warm-up
round, then --rounds rounds that run every cell under every configuration in turn. A cell's
time is the wall time of shell.run_cell, report included (shown into a captured output). The
median per cell and configuration goes to stdout, with its ratio to the plain cell; `x = 1`
measures the magic's fixed cost (start, stop, report).

    .venv/bin/python benchmarks/jupyter_magic.py --rounds 7
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

CELLS = {
    "x = 1": "x = 1",
    "Python loop": "total = 0\nfor i in range(2_000_000):\n    total += i * i",
    "256 MB in 64 KB blocks": "blocks = [bytearray(64 * 1024) for _ in range(4096)]\ndel blocks",
}
CONFIGS = {
    "plain": "",
    "%%heatline": "%%heatline\n",
    "%%heatline --cli": "%%heatline --cli\n",
    "%%heatline --cli --cpu-only": "%%heatline --cli --cpu-only\n",
}

SHELL_SCRIPT = textwrap.dedent("""
    import json, statistics, sys, time
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    cells, configs, rounds = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
    shell = InteractiveShell.instance(colors="nocolor")
    shell.run_cell("%load_ext heatline")
    times = {cell: {config: [] for config in configs} for cell in cells}
    for round_number in range(rounds + 1):
        for cell, code in cells.items():
            for config, prefix in configs.items():
                start = time.perf_counter()
                with capture_output():
                    result = shell.run_cell(prefix + code, store_history=True)
                elapsed = time.perf_counter() - start
                if not result.success:
                    sys.exit(f"{config} on {cell!r} failed: {result.error_in_exec or result.error_before_exec}")
                if round_number:
                    times[cell][config].append(elapsed)
    print(json.dumps({cell: {config: statistics.median(values) for config, values in by_config.items()}
                      for cell, by_config in times.items()}))
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds (default %(default)s)")
    args = parser.parse_args()
    result = subprocess.run([sys.executable, "-c", SHELL_SCRIPT, json.dumps(CELLS), json.dumps(CONFIGS),
                             str(args.rounds)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr.strip())
    medians = json.loads(result.stdout)
    header = ["cell"] + list(CONFIGS)
    rows = [header]
    for cell, by_config in medians.items():
        plain = by_config["plain"]
        rows.append([cell] + [f"{seconds * 1000:.0f} ms" + ("" if config == "plain" else f" ({seconds / plain:.1f}x)")
                              for config, seconds in by_config.items()])
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    print(f"median wall time of run_cell over {args.rounds} rounds (ratio to the plain cell)")
    for row in rows:
        print("  ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
