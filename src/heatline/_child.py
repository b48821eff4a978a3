"""Imported by heatline/_hook/sitecustomize.py as a Python process of a profiled run starts:
a process started, directly or not, by a profiled run (multiprocessing's spawn and forkserver,
subprocess, os.system). It starts the process's own session before the process runs any of its
code; the engine writes the session's document where the run's first process merges it
(heatline/_processes.py). Nothing here may break the process: a failure is one line on stderr
and the process runs unprofiled."""

import sys


def _start() -> None:
    from . import _processes

    spec = _processes.child_spec()
    if spec is None:
        return
    from . import _session

    if _session.is_child():
        return
    argv = _processes.command_line()
    _session.start_child(spec, _processes.exec_start_method(argv), argv)


try:
    _start()
except Exception as error:  # noqa: BLE001 - the program must run, profiled or not
    print(f"heatline: this process ({sys.executable}) is not profiled: {error}", file=sys.stderr)
