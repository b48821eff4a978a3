"""Run a script under memory_profiler's line-by-line mode, every function of the script traced.

memory_profiler measures only the functions decorated with @profile, and the benchmark programs
carry no decorators. This driver registers every function and class defined at the top of the
script (with everything nested in them) as @profile would, runs the script as __main__, and
writes memory_profiler's line report to a file.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import memory_profiler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", type=Path, help="file that receives memory_profiler's report")
    parser.add_argument("script", type=Path, help="the program to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the program's arguments")
    options = parser.parse_args()

    script = options.script.resolve()
    code = compile(script.read_text(), str(script), "exec")
    profiler = memory_profiler.LineProfiler(backend="psutil")
    # One entry per top-level definition: memory_profiler reports an entry's lines from its
    # source block, and the block of a module's code object ends after its first definition.
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            profiler.code_map.add(constant)

    main_module = types.ModuleType("__main__")
    main_module.__file__ = str(script)
    sys.modules["__main__"] = main_module
    sys.argv = [str(options.script), *options.args]
    sys.path[0] = str(script.parent)
    profiler.enable_by_count()
    try:
        exec(code, main_module.__dict__)
    finally:
        profiler.disable_by_count()
        with options.report.open("w") as report:
            memory_profiler.show_results(profiler, stream=report)


if __name__ == "__main__":
    main()
