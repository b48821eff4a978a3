"""The `heatline` command: run a Python program as `python3` would, profile it, report.

    heatline [options] prog.py [args...]
    heatline [options] -m package.module [args...]

Everything after the program (or the module name) belongs to the program.
"""

from __future__ import annotations

import argparse
import atexit
import builtins
import importlib.util
import os
import signal
import sys
import threading
import traceback
import types
from typing import Any, NamedTuple, NoReturn, Optional, Sequence

from . import _core, _session

EXIT_USAGE = 2
# Options that take a value: the value is theirs even when it looks like a program name.
VALUE_OPTIONS = {"--cpu-sampling-interval", "--memory-sampling-rate", "--profile-only", "--profile-exclude", "--outfile"}


class UsageError(Exception):
    """A mistake on the command line: one message line, exit status 2."""


class Program(NamedTuple):
    """What to run: a script path or a module name, and its arguments."""

    script: Optional[str]
    module: Optional[str]
    args: list[str]


def _byte_count(text: str) -> int:
    low, high = _session.MEMORY_SAMPLING_RATE_RANGE_BYTES
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of bytes, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be between {low} and {high} bytes, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="heatline",
        usage="heatline [options] prog.py [args...]\n       heatline [options] -m module [args...]",
        description="Run a Python program and profile where its time goes, line by line: "
                    "Python, native (C extensions) and system (kernel, I/O, sleep, waits).",
        epilog="Everything after the program name belongs to the program. "
               "Example: heatline --reduced-profile train.py --epochs 3")
    parser.add_argument("--version", action="version", version=f"heatline {_session.VERSION}")
    parser.add_argument("-m", dest="module", metavar="MODULE",
                        help="run a library module as a script, like python3 -m")

    mode = parser.add_argument_group("what to measure")
    mode.add_argument("--cpu-only", action="store_true",
                      help="profile CPU time only (no memory, copies or GPU): the lowest overhead")
    mode.add_argument("--cpu-sampling-interval", type=float, metavar="SECONDS",
                      default=_session.DEFAULT_CPU_SAMPLING_INTERVAL_S,
                      help="CPU time between samples of each thread (default %(default)s)")
    mode.add_argument("--memory-sampling-rate", metavar="BYTES", type=_byte_count,
                      default=_session.DEFAULT_MEMORY_SAMPLING_RATE_BYTES,
                      help="mean bytes allocated (or copied) between memory samples; smaller is "
                           "more precise and slower (default %(default)s)")

    scope = parser.add_argument_group("which code is the program")
    scope.add_argument("--profile-all", action="store_true",
                       help="profile every file, standard library and site-packages included")
    scope.add_argument("--profile-only", metavar="PATTERNS", default="",
                       help="profile only files whose path contains one of these comma-separated strings")
    scope.add_argument("--profile-exclude", metavar="PATTERNS", default="",
                       help="never profile files whose path contains one of these comma-separated strings")

    output = parser.add_argument_group("output")
    output.add_argument("--outfile", metavar="FILE", help="write the report to FILE instead of stdout")
    output.add_argument("--json", action="store_true",
                        help="write the profile document (JSON, docs/profile-format.md) instead of text")
    output.add_argument("--reduced-profile", action="store_true",
                        help="in the text report, show only lines and functions with at least 1%% of the "
                             "time, memory allocated, peak or copies, and suspected leaks (the JSON "
                             "document always holds every line)")

    scope.add_argument("--no-children", action="store_true",
                       help="profile this process only, not the Python processes it starts "
                            "(multiprocessing, subprocess, os.fork)")

    control = parser.add_argument_group("control")
    control.add_argument("--off", action="store_true",
                         help="start with profiling off; the program turns it on with heatline.start()")
    return parser


def split_command_line(argv: Sequence[str]) -> tuple[list[str], Optional[Program]]:
    """Separates heatline's options from the program and the program's arguments."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-m":
            if i + 1 >= len(argv):
                raise UsageError("argument -m: expected a module name")
            return list(argv[:i]), Program(None, argv[i + 1], list(argv[i + 2:]))
        if arg.startswith("-m") and not arg.startswith("--"):
            return list(argv[:i]), Program(None, arg[2:], list(argv[i + 1:]))
        if arg == "--":
            rest = argv[i + 1:]
            return list(argv[:i]), Program(rest[0], None, list(rest[1:])) if rest else None
        if not arg.startswith("-") or arg == "-":
            return list(argv[:i]), Program(arg, None, list(argv[i + 1:]))
        i += 2 if arg in VALUE_OPTIONS else 1
    return list(argv), None


def parse_options(argv: Sequence[str]) -> tuple[argparse.Namespace, _session.Options, Program]:
    parser = build_parser()
    try:
        own, program = split_command_line(argv)
    except UsageError as error:
        parser.error(str(error))
    args = parser.parse_args(own)
    if program is None:
        parser.error("no program given: heatline [options] prog.py [args...]")
    low, high = _session.CPU_SAMPLING_INTERVAL_RANGE_S
    if not low <= args.cpu_sampling_interval <= high:
        parser.error(f"--cpu-sampling-interval must be between {low:g} and {high:g} seconds")
    options = _session.Options(
        cpu_sampling_interval=args.cpu_sampling_interval,
        profile_all=args.profile_all,
        profile_only=args.profile_only,
        profile_exclude=args.profile_exclude,
        reduced_profile=args.reduced_profile,
        cpu_only=args.cpu_only,
        memory_sampling_rate=args.memory_sampling_rate,
        children=not args.no_children,
    )
    return args, options, program


def fail(message: str, status: int) -> NoReturn:
    print(f"heatline: {message}", file=sys.stderr)
    sys.exit(status)


# ---- preparing the program --------------------------------------------------------------------

class Prepared(NamedTuple):
    """A program ready to run: its code (or module name), argv, and the program's directory."""

    code: Optional[types.CodeType]
    module: Optional[str]
    path: str
    argv: list[str]
    program_dir: str
    sys_path0: str


def prepare_script(program: Program) -> Prepared:
    assert program.script is not None
    path = os.path.abspath(program.script)
    if os.path.isdir(path):
        main = os.path.join(path, "__main__.py")
        if not os.path.isfile(main):
            fail(f"can't find '__main__' module in {program.script!r}", 1)
        sys_path0 = path
        path = main
    else:
        sys_path0 = os.path.dirname(os.path.realpath(path))
    try:
        with open(path, "rb") as file:
            source = file.read()
    except OSError as error:
        fail(f"can't open file {path!r}: [Errno {error.errno}] {error.strerror}", EXIT_USAGE)
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        sys.stderr.write("".join(traceback.format_exception_only(type(error), error)))
        sys.exit(1)
    return Prepared(code, None, path, [program.script] + program.args,
                    os.path.dirname(path), sys_path0)


def prepare_module(program: Program) -> Prepared:
    assert program.module is not None
    cwd = os.getcwd()
    sys.path[0] = cwd
    try:
        spec = importlib.util.find_spec(program.module)
    except (ImportError, ValueError) as error:
        fail(f"error while finding module specification for {program.module!r} ({error})", 1)
    if spec is None or spec.origin is None:
        fail(f"No module named {program.module}", 1)
    origin = os.path.abspath(spec.origin)
    top_package = program.module.split(".")[0]
    top_spec = importlib.util.find_spec(top_package)
    locations = list(getattr(top_spec, "submodule_search_locations", None) or [])
    if origin.startswith(cwd + os.sep):
        program_dir = cwd
    elif locations:
        program_dir = os.path.abspath(locations[0])
    else:
        program_dir = os.path.dirname(origin)
    return Prepared(None, program.module, origin, [origin] + program.args, program_dir, cwd)


# ---- running it -------------------------------------------------------------------------------

def program_frames(tb: Optional[types.TracebackType]) -> Optional[types.TracebackType]:
    """The traceback without heatline's and runpy's frames in front of the program's."""
    skipped = {os.path.abspath(__file__), os.path.abspath(getattr(sys.modules.get("runpy"), "__file__", "") or "")}
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) in skipped:
        tb = tb.tb_next
    return tb


def exit_status_of(code: Any) -> int:
    """What python3 exits with for `sys.exit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def run(prepared: Prepared) -> int:
    """Runs the program as __main__; returns the exit status python3 would give, or minus the
    number of the signal that ended it."""
    sys.argv = prepared.argv
    sys.path[0] = prepared.sys_path0
    try:
        if prepared.module is not None:
            import runpy

            runpy.run_module(prepared.module, run_name="__main__", alter_sys=True)
        else:
            main = types.ModuleType("__main__")
            main.__dict__.update({"__file__": prepared.path, "__builtins__": builtins, "__cached__": None})
            sys.modules["__main__"] = main
            exec(prepared.code, main.__dict__)
        wait_for_threads()
    except SystemExit as exit:
        return exit_status_of(exit.code)
    except KeyboardInterrupt as error:
        # python3 prints the traceback, then dies by SIGINT (so that a shell sees 130).
        traceback.print_exception(type(error), error, program_frames(error.__traceback__))
        return -signal.SIGINT
    except BaseException as error:  # the program's own exception: shown as python3 shows it
        traceback.print_exception(type(error), error, program_frames(error.__traceback__))
        return 1
    return 0


def wait_for_threads() -> None:
    """python3 waits for non-daemon threads before exiting; so do we, before the report."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()


# ---- reporting --------------------------------------------------------------------------------

def write_report(document: dict[str, Any], args: argparse.Namespace) -> None:
    from . import report

    if args.outfile:
        try:
            with open(args.outfile, "w", encoding="utf-8") as out:
                if args.json:
                    report.write_json(document, out)
                else:
                    report.render_text(document, out, color=False, width=120, reduced=args.reduced_profile)
        except OSError as error:
            fail(f"cannot write {args.outfile!r}: {error.strerror}", 1)
        return
    sys.stdout.flush()
    if args.json:
        report.write_json(document, sys.stdout)
    else:
        report.render_text(document, sys.stdout, reduced=args.reduced_profile)
    sys.stdout.flush()


def main(argv: Optional[Sequence[str]] = None) -> NoReturn:
    global _args, _first_pid
    args, options, program = parse_options(sys.argv[1:] if argv is None else argv)
    if args.outfile and os.path.isdir(args.outfile):
        fail(f"--outfile {args.outfile!r} is a directory", EXIT_USAGE)
    prepared = prepare_module(program) if program.module else prepare_script(program)
    _session.owned_by_cli = True
    _session.leave_run()
    _args, _first_pid = args, os.getpid()
    # Registered before the program runs, so it runs after the program's own exit handlers
    # (multiprocessing's among them, which wait for its children).
    atexit.register(_finish_at_exit)
    builtins.profile = _profile_builtin()  # type: ignore[attr-defined]
    try:
        _session.start_engine(options, program=prepared.path if not prepared.module else f"-m {prepared.module}",
                              argv=prepared.argv, program_dirs=[prepared.program_dir], enabled=not args.off)
    except (RuntimeError, ValueError) as error:
        fail(str(error), 1)
    _session.on_first_process_exit = finish
    _session.first_process_sigterm_handler = _terminate
    signal.signal(signal.SIGTERM, _terminate)
    end_as_python_would(run(prepared))


_args: Optional[argparse.Namespace] = None
_first_pid = 0
_finished = False
# The signal to die by once every exit handler has run (see end_as_python_would).
_signal_at_exit = 0


def finish() -> None:
    """Stops profiling and writes the report, once, in the command's own process (a forked
    child's session is heatline._session's). Ctrl-C no longer interrupts from here."""
    global _finished
    if _finished or os.getpid() != _first_pid or not _core.is_running() or _args is None:
        return
    _finished = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout.flush()
    write_report(_session.stop_engine(), _args)


def end_as_python_would(status: int) -> NoReturn:
    """Exits with the program's status, or dies by the signal that ended it (status < 0) once
    the exit handlers have run, as python3 does after a KeyboardInterrupt."""
    global _signal_at_exit
    if status < 0:
        _signal_at_exit = -status
    sys.exit(status & 0xFF)


def _finish_at_exit() -> None:
    finish()
    if _signal_at_exit:
        die_by_signal(_signal_at_exit)


def die_by_signal(signum: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM: the report is written, then the process dies by the signal at once, as it would
    have without heatline (no exception reaches the program, no exit handler runs). One that
    comes while the report is being written waits for it to be complete."""
    global _signal_at_exit
    if _finished:
        _signal_at_exit = signum
        return
    finish()
    die_by_signal(signum)


def _profile_builtin() -> Any:
    from . import profile

    return profile
