"""Runs cells in IPython's InteractiveShell, as a terminal IPython would, and writes what each
showed: ipython_cells.py CELLS.json OUT.json.

CELLS.json holds a list of cell texts. OUT.json gets one entry per cell: its stdout and stderr,
the mimebundles it displayed, and whether it succeeded. Run in its own process: the magics start
the engine in the process that runs the cells.
"""
import json
import sys

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output


def main() -> None:
    with open(sys.argv[1]) as file:
        cells = json.load(file)
    shell = InteractiveShell.instance(colors="nocolor")
    shown = []
    for cell in cells:
        with capture_output() as captured:
            result = shell.run_cell(cell, store_history=True)
        shown.append({"stdout": captured.stdout, "stderr": captured.stderr,
                      "outputs": [output.data for output in captured.outputs], "success": result.success})
    with open(sys.argv[2], "w") as file:
        json.dump(shown, file)


if __name__ == "__main__":
    main()
