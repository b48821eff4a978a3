"""The `heatline` command: run a Python program as `python3` would, profile it, report.

    heatline [options] prog.py [args...]
    heatline [options] -m package.module [args...]
    heatline view PROFILE.json [--cli | --html | --json] [--reduced-profile] [--outfile F]
    heatline diff BEFORE.json AFTER.json [--cli | --html] [--outfile F]
    heatline merge A.json B.json [...] [-o ALL.json]

Everything after the program (or the module name) belongs to the program. `view`, `diff` and
`merge` read saved profile documents and run nothing; a program file named `view`, `diff` or
`merge` runs as `heatline ./view`.
"""

from __future__ import annotations

import argparse
import atexit
import builtins
import importlib.util
import io
import os
import signal
import sys
import tempfile
import threading
import traceback
import types
from typing import Any, Callable, Iterable, NamedTuple, NoReturn, Optional, Sequence, TextIO

from . import _core, _session
from . import _push_options as push_options

EXIT_USAGE = 2
# What an output option writes when no --outfile names a file: HTML goes to a file, not among
# the program's own output on stdout.
DEFAULT_HTML_OUTFILE = "heatline.html"
DEFAULT_DIFF_HTML_OUTFILE = "heatline-diff.html"
SUBCOMMANDS = ("view", "diff", "merge")
# Options that take a value: the value is theirs even when it looks like a program name.
VALUE_OPTIONS = {"--cpu-sampling-interval", "--memory-sampling-rate", "--profile-only", "--profile-exclude", "--outfile",
                 "--pprof", "--speedscope", "--collapsed", "--collapsed-value",
                 "--push", "--app", "--label", "--push-interval"}
# --push-interval: the engine rewrites the documents the pushes are made of every second or more.
PUSH_INTERVAL_RANGE_S = (1.0, 86400.0)


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
        usage="heatline [options] prog.py [args...]\n       heatline [options] -m module [args...]\n"
              "       heatline view PROFILE.json [--cli | --html | --json] [--reduced-profile] [--outfile F]\n"
              "       heatline diff BEFORE.json AFTER.json [--cli | --html] [--outfile F]\n"
              "       heatline merge A.json B.json [...] [-o ALL.json]",
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
    mode.add_argument("--idle", action="store_true",
                      help="count the time threads other than the main one wait for work (a lock, "
                           "condition, queue or selector wait) as system time where they wait, as "
                           "any wait; by default it is apart, as idle time, outside the percentages")
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

    _add_output_options(parser, json=True, html_default=DEFAULT_HTML_OUTFILE, reduced=True)
    _add_export_options(parser)

    gpu = mode.add_mutually_exclusive_group()
    gpu.add_argument("--gpu", dest="gpu", action="store_true", default=True,
                     help="read the NVIDIA GPU's utilization and this program's GPU memory through NVML "
                          "(the default; without a GPU or driver the GPU columns stay empty and a note says why)")
    gpu.add_argument("--no-gpu", dest="gpu", action="store_false", help="do not read the GPU")
    scope.add_argument("--no-children", action="store_true",
                       help="profile this process only, not the Python processes it starts "
                            "(multiprocessing, subprocess, os.fork)")

    pushing = parser.add_argument_group(
        "push to Grafana Pyroscope",
        "send the profile to a Pyroscope server as pprof (its /ingest API): at the end of the run, "
        "or every interval while it runs. A push that fails is one line on stderr; the program's "
        "exit status and the local report do not change. A push waits "
        f"{push_options.DEFAULT_TIMEOUT_S:g} s at most for the server (${push_options.TIMEOUT_ENV} sets another).")
    pushing.add_argument("--push", metavar="URL", type=_checked(push_options.check_url),
                         help="the server, e.g. http://localhost:4040")
    pushing.add_argument("--app", metavar="NAME", type=_checked(push_options.check_app),
                         help="the application's name there (required with --push)")
    pushing.add_argument("--label", metavar="KEY=VALUE", action="append", default=[],
                         type=_checked(push_options.parse_label),
                         help="a label of every push, e.g. env=staging (repeatable)")
    pushing.add_argument("--push-interval", metavar="SECONDS", type=float,
                         help="push a profile of each interval while the program runs (at least "
                              f"{PUSH_INTERVAL_RANGE_S[0]:g} s), then the rest at its end")

    control = parser.add_argument_group("control")
    control.add_argument("--off", action="store_true",
                         help="start with profiling off; the program turns it on with heatline.start()")
    return parser


def _checked(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a check that raises ValueError with the message to show."""

    def convert(text: str) -> Any:
        try:
            return check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def _add_output_options(parser: argparse.ArgumentParser, *, json: bool, html_default: str,
                        reduced: bool) -> None:
    """The options that choose a report's form and place, shared by the run, view and diff."""
    parser.set_defaults(html_default=html_default)
    output = parser.add_argument_group("output")
    output.add_argument("--outfile", metavar="FILE",
                        help="write the report to FILE instead of stdout ('-': stdout); checked "
                             "before anything runs")
    form = output.add_mutually_exclusive_group()
    form.add_argument("--cli", action="store_true", help="the text report (the default)")
    if json:
        form.add_argument("--json", action="store_true",
                          help="write the profile document (JSON, docs/profile-format.md) instead of text")
    form.add_argument("--html", action="store_true",
                      help=f"write one offline HTML page (to --outfile, by default {html_default} "
                           "in the current directory)")
    if reduced:
        output.add_argument("--reduced-profile", action="store_true",
                            help="show only lines and functions with at least 1%% of the time, memory "
                                 "allocated, peak or copies, and suspected leaks (the JSON document "
                                 "always holds every line; the HTML page can switch)")


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


def parse_options(argv: Sequence[str]) -> tuple[argparse.Namespace, _session.Options, Program, "Output"]:
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
    if args.push is None and (args.app or args.label or args.push_interval is not None):
        parser.error("--app, --label and --push-interval go with --push URL")
    if args.push is not None and not args.app:
        parser.error("--push needs --app NAME: the application's name on the server")
    keys = [key for key, _ in args.label]
    if len(set(keys)) < len(keys):
        parser.error(f"--label: the key {next(k for k in keys if keys.count(k) > 1)!r} is given twice")
    low, high = PUSH_INTERVAL_RANGE_S
    if args.push_interval is not None and not low <= args.push_interval <= high:
        parser.error(f"--push-interval must be between {low:g} and {high:g} seconds")
    try:
        args.push_timeout = push_options.timeout_from_environment() if args.push else None
    except ValueError as error:
        parser.error(str(error))
    options = _session.Options(
        cpu_sampling_interval=args.cpu_sampling_interval,
        profile_all=args.profile_all,
        profile_only=args.profile_only,
        profile_exclude=args.profile_exclude,
        reduced_profile=args.reduced_profile,
        cpu_only=args.cpu_only,
        memory_sampling_rate=args.memory_sampling_rate,
        children=not args.no_children,
        gpu=args.gpu,
        idle=args.idle,
    )
    return args, options, program, output_of(args, parser)


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
    return Prepared(None, program.module, origin, [origin] + program.args, module_program_dir(program.module, origin),
                    cwd)


def module_program_dir(module: str, origin: str) -> str:
    """The program's directory under `-m MODULE`. A tool run as a module (`-m pytest`,
    `-m unittest`, `-m uvicorn app:app`) comes from site-packages or the standard library and
    runs the current directory's code: that code is the program. A module of the current
    directory's, or one found elsewhere, is the program itself (its top package); so is a tool run
    from a directory holding no Python code (`cd /tmp && heatline -m pip ...`)."""
    cwd = os.getcwd()
    if origin.startswith(cwd + os.sep):
        return cwd
    if under_any(origin, _session.library_dirs()) and holds_python_code(cwd):
        return cwd
    top_spec = importlib.util.find_spec(module.split(".")[0])
    locations = list(getattr(top_spec, "submodule_search_locations", None) or [])
    return os.path.abspath(locations[0]) if locations else os.path.dirname(origin)


def under_any(path: str, dirs: Iterable[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip(os.sep) + os.sep) for d in dirs)


# How far holds_python_code looks: the folders it skips hold no program (virtual environments,
# caches, version control), and it gives up on a huge tree (a home directory) rather than wait.
SKIPPED_FOLDERS = {"site-packages", "dist-packages", "node_modules", "__pycache__", "build", "dist"}
SEARCH_DEPTH = 3
SEARCH_ENTRIES = 20000


def holds_python_code(top: str) -> bool:
    """Whether `top` holds a .py file, itself or in its folders down to SEARCH_DEPTH."""
    seen = 0
    for folder, subfolders, files in os.walk(top):
        if any(name.endswith(".py") for name in files):
            return True
        seen += len(files) + len(subfolders)
        if seen > SEARCH_ENTRIES:
            return False
        depth = os.path.relpath(folder, top).count(os.sep) + (folder != top)
        subfolders[:] = [] if depth >= SEARCH_DEPTH else [
            name for name in subfolders
            if not name.startswith(".") and name not in SKIPPED_FOLDERS
            and not os.path.isfile(os.path.join(folder, name, "pyvenv.cfg"))]
    return False


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

class Output(NamedTuple):
    """A report's form ("text", "json" or "html") and place (an absolute path; None: stdout)."""

    form: str
    path: Optional[str]
    reduced: bool
    exports: tuple["Export", ...] = ()


# Renders a report to a stream: (out, color, width); width None: $COLUMNS or the terminal's.
Renderer = Callable[[TextIO, bool, Optional[int]], None]
# The width of a text report written to a file: a file has no terminal to fit.
FILE_REPORT_COLUMNS = 120


def output_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Output:
    """The report the options ask for, its file checked now: a profile must never be lost to a
    path that cannot be written, nor land elsewhere because the program changed directory."""
    form = "json" if getattr(args, "json", False) else "html" if args.html else "text"
    outfile = args.outfile if args.outfile is not None else args.html_default if form == "html" else None
    path = None if outfile in (None, "-") else os.path.abspath(outfile)
    if path is not None:
        problem = unwritable(path)
        if problem:
            parser.error(f"--outfile {outfile}: {problem}")
    return Output(form, path, getattr(args, "reduced_profile", False), exports_of(args, parser))


def unwritable(path: str) -> Optional[str]:
    """Why a file cannot be written at `path`, or None."""
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        return "is a directory"
    if not os.path.isdir(folder):
        return f"no such directory {folder}"
    if os.path.exists(path):
        return None if os.access(path, os.W_OK) else "the file is not writable"
    return None if os.access(folder, os.W_OK | os.X_OK) else f"cannot create files in {folder}"


def profile_renderer(document: dict[str, Any], output: Output) -> Renderer:
    """Writes `document` in the output's form."""
    from . import report

    def render(out: TextIO, color: bool, width: Optional[int]) -> None:
        if output.form == "json":
            report.write_json(document, out)
        elif output.form == "html":
            report.render_html(document, out, reduced=output.reduced)
        else:
            report.render_text(document, out, color=color, width=width, reduced=output.reduced)

    return render


def write_output(render: Renderer, output: Output, keep: bool) -> bool:
    """Renders the report into memory, then writes it to its place; False when its file could
    not be written. With `keep` (a run's profile, which exists nowhere else) the report is then
    saved in the temporary directory, and the message says where."""
    buffer = io.StringIO()
    if output.path is None:
        render(buffer, sys.stdout.isatty() and "NO_COLOR" not in os.environ, None)
        sys.stdout.flush()
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
        return True
    render(buffer, False, FILE_REPORT_COLUMNS)
    try:
        with open(output.path, "w", encoding="utf-8") as file:
            file.write(buffer.getvalue())
        return True
    except OSError as error:
        problem = f"cannot write {output.path}: {error.strerror}"
    if not keep:
        print(f"heatline: {problem}", file=sys.stderr)
        return False
    suffix = {"json": ".json", "html": ".html"}.get(output.form, ".txt")
    try:
        descriptor, fallback = tempfile.mkstemp(prefix="heatline-profile-", suffix=suffix)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(buffer.getvalue())
    except OSError as error:
        print(f"heatline: {problem}; nor in the temporary directory ({error.strerror}): the "
              "profile is lost", file=sys.stderr)
        return False
    print(f"heatline: {problem}; the profile is in {fallback}", file=sys.stderr)
    return False


def say_where(output: Output) -> None:
    """An HTML page goes to a file the user may not have named: say which."""
    if output.form == "html" and output.path is not None:
        print(f"heatline: HTML report written to {output.path}", file=sys.stderr)


# ---- export formats: pprof, speedscope, collapsed stacks -----------------------------------------

class Export(NamedTuple):
    """A standard format of the call stacks, written beside the report: which one ("pprof",
    "speedscope" or "collapsed", its option's name), its absolute path, and the value a
    collapsed file carries."""

    form: str
    path: str
    collapsed_value: str


EXPORT_FORMS = ("pprof", "speedscope", "collapsed")


def _add_export_options(parser: argparse.ArgumentParser) -> None:
    """The options that write the call stacks in standard formats, shared by the run and view."""
    from .report import collapsed

    group = parser.add_argument_group(
        "export formats", "the call stacks, written to files in addition to the report; each FILE "
                          "is checked before anything runs")
    group.add_argument("--pprof", metavar="FILE",
                       help="a gzip-compressed pprof profile (go tool pprof, Pyroscope, Parca): "
                            "time by kind in nanoseconds, samples, bytes allocated and copied")
    group.add_argument("--speedscope", metavar="FILE",
                       help="a speedscope JSON file (speedscope.app): one profile per kind of "
                            "time and memory")
    group.add_argument("--collapsed", metavar="FILE",
                       help="collapsed stacks, the input of flamegraph.pl and inferno: one line "
                            "per stack, 'frame;frame;frame value'")
    group.add_argument("--collapsed-value", metavar="VALUE", choices=collapsed.VALUE_NAMES,
                       default=collapsed.DEFAULT_VALUE,
                       help="what the number of a collapsed line is: time, python, native, system, "
                            "gil_wait or idle in microseconds, samples, or alloc, copy or peak in bytes "
                            "(default %(default)s: python + native + system)")


def exports_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[Export, ...]:
    """The export formats the options ask for, each path checked and made absolute now, as
    --outfile's is."""
    from .report import collapsed

    exports = []
    for form in EXPORT_FORMS:
        name = getattr(args, form, None)
        if name is None:
            continue
        path = os.path.abspath(name)
        problem = unwritable(path)
        if problem:
            parser.error(f"--{form} {name}: {problem}")
        exports.append(Export(form, path, args.collapsed_value))
    if getattr(args, "cpu_only", False) and getattr(args, "collapsed", None) is not None \
            and collapsed.value_named(args.collapsed_value).memory:
        parser.error(f"--collapsed-value {args.collapsed_value} needs memory, which --cpu-only "
                     "does not measure")
    return tuple(exports)


def encode_exports(document: dict[str, Any], exports: Sequence[Export]) -> list[tuple[Export, bytes]]:
    from . import report

    return [(export, report.export(document, export.form, collapsed_value=export.collapsed_value))
            for export in exports]


def encode_saved_exports(document: dict[str, Any], exports: Sequence[Export],
                         source: str) -> list[tuple[Export, bytes]]:
    """The exports of a saved document, made before anything is written: a document without
    the stacks or the value they need ends in one line."""
    from .report import collapsed, stacks

    if exports and "stacks" not in document:
        fail(f"{source}: the profile has no call stacks (it was written before heatline recorded "
             f"them), so --{exports[0].form} cannot be written", EXIT_USAGE)
    for export in exports:
        if (export.form == "collapsed" and collapsed.value_named(export.collapsed_value).memory
                and not stacks.has_memory_values(document)):
            fail(f"{source}: the profile has no memory figures (--cpu-only), so --collapsed-value "
                 f"{export.collapsed_value} has nothing to show", EXIT_USAGE)
    try:
        return encode_exports(document, exports)
    except INCOMPLETE_DOCUMENT_ERRORS as error:
        fail_incomplete(source, error)


def write_exports(exported: Sequence[tuple[Export, bytes]]) -> bool:
    """Writes each export to its file; False, after one line on stderr for each, when some
    could not be written."""
    written = True
    for export, data in exported:
        try:
            with open(export.path, "wb") as file:
                file.write(data)
        except OSError as error:
            print(f"heatline: cannot write {export.path}: {error.strerror}", file=sys.stderr)
            written = False
    return written


# ---- view and diff: saved profiles ------------------------------------------------------------

def view_main(argv: Sequence[str]) -> NoReturn:
    parser = argparse.ArgumentParser(
        prog="heatline view",
        description="Show a saved profile document (written by --json, by heatline.stop(), or "
                    "merged from child processes) as text, HTML or JSON.")
    parser.add_argument("profile", metavar="PROFILE.json", help="the profile document")
    _add_output_options(parser, json=True, html_default=DEFAULT_HTML_OUTFILE, reduced=True)
    _add_export_options(parser)
    args = parser.parse_args(argv)
    output = output_of(args, parser)
    document = load_or_fail(args.profile)
    exported = encode_saved_exports(document, output.exports, args.profile)
    write_saved(checked(profile_renderer(document, output), args.profile), output, exported)


def diff_main(argv: Sequence[str]) -> NoReturn:
    parser = argparse.ArgumentParser(
        prog="heatline diff",
        description="Compare two profiles of the same program: per line and per function, the "
                    "change in time by kind, memory allocated, peak, copies and leaks. Lines are "
                    "matched by file and source text, so edits that shift line numbers still match.")
    parser.add_argument("before", metavar="BEFORE.json", help="the profile before the change")
    parser.add_argument("after", metavar="AFTER.json", help="the profile after it")
    _add_output_options(parser, json=False, html_default=DEFAULT_DIFF_HTML_OUTFILE, reduced=False)
    args = parser.parse_args(argv)
    output = output_of(args, parser)
    before, after = load_or_fail(args.before), load_or_fail(args.after)
    from . import report

    def render(out: TextIO, color: bool, width: Optional[int]) -> None:
        diff = report.diff_documents(before, after)
        if output.form == "html":
            report.render_diff_html(diff, out)
        else:
            report.render_diff_text(diff, out, color=color, width=width)

    write_saved(checked(render, f"{args.before} or {args.after}"), output)


def merge_main(argv: Sequence[str]) -> NoReturn:
    parser = argparse.ArgumentParser(
        prog="heatline merge",
        description="Add up profiles of one program from many runs or hosts into one profile "
                    "document: time, samples, memory allocated and copied, per line, function and "
                    "stack; peaks stay per run (the highest is the profile's, and each run's is "
                    "listed with its file in merged_from). Show the result with heatline view.")
    parser.add_argument("profiles", nargs="+", metavar="PROFILE.json",
                        help="the profile documents (at least two; a merged one brings its runs)")
    parser.add_argument("-o", "--outfile", metavar="FILE",
                        help="write the merged document to FILE instead of stdout ('-': stdout); "
                             "checked before anything is read")
    parser.set_defaults(html_default=None, json=True)
    args = parser.parse_args(argv)
    if len(args.profiles) < 2:
        parser.error("merge needs at least two profiles")
    problem = unwritable(os.path.abspath(args.outfile)) if args.outfile not in (None, "-") else None
    if problem:
        fail(f"-o {args.outfile}: {problem}", EXIT_USAGE)
    output = output_of(args, parser)
    documents = [load_or_fail(path) for path in args.profiles]
    from .report.merge import MergeError, merge_documents

    try:
        merged = merge_documents(documents, args.profiles)
    except MergeError as error:
        fail(str(error), EXIT_USAGE)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        detail = f"no field {error}" if isinstance(error, KeyError) else str(error)
        fail(f"{' or '.join(args.profiles)}: not a complete heatline profile ({detail})", EXIT_USAGE)
    write_saved(profile_renderer(merged, output), output)


def load_or_fail(path: str) -> dict[str, Any]:
    from .report import DocumentError, load_document

    try:
        return load_document(path)
    except DocumentError as error:
        fail(str(error), EXIT_USAGE)


def checked(render: Renderer, source: str) -> Renderer:
    """A document with the right schema but a field missing or of the wrong type (edited by
    hand, or written by a broken tool) ends in one line, not in a traceback from a renderer."""

    def render_checked(out: TextIO, color: bool, width: Optional[int]) -> None:
        try:
            render(out, color, width)
        except INCOMPLETE_DOCUMENT_ERRORS as error:
            fail_incomplete(source, error)

    return render_checked


# What a renderer raises on a document with a field missing or of the wrong type.
INCOMPLETE_DOCUMENT_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def fail_incomplete(source: str, error: Exception) -> NoReturn:
    detail = f"no field {error}" if isinstance(error, KeyError) else str(error)
    fail(f"{source}: not a complete heatline profile ({detail})", EXIT_USAGE)


def write_saved(render: Renderer, output: Output,
                exported: Sequence[tuple["Export", bytes]] = ()) -> NoReturn:
    if not write_output(render, output, keep=False):
        sys.exit(1)
    say_where(output)
    sys.exit(0 if write_exports(exported) else 1)


def main(argv: Optional[Sequence[str]] = None) -> NoReturn:
    global _output, _first_pid, _pusher
    argv = list(sys.argv[1:] if argv is None else argv)
    if os.path.isfile(sys.argv[0]):
        _session.launcher_script = sys.argv[0]
    if argv and argv[0] == "view":
        view_main(argv[1:])
    if argv and argv[0] == "diff":
        diff_main(argv[1:])
    if argv and argv[0] == "merge":
        merge_main(argv[1:])
    args, options, program, output = parse_options(argv)
    prepared = prepare_module(program) if program.module else prepare_script(program)
    _session.owned_by_cli = True
    _session.leave_run()
    _output, _first_pid = output, os.getpid()
    # Registered before the program runs, so it runs after the program's own exit handlers
    # (multiprocessing's among them, which wait for its children).
    atexit.register(_finish_at_exit)
    builtins.profile = _profile_builtin()  # type: ignore[attr-defined]
    if args.push is not None:
        from . import _push  # here: most runs push nothing
        from .report import push as pyroscope

        _pusher = _push.Pusher(pyroscope.Target(args.push, args.app, tuple(args.label), args.push_timeout),
                               args.push_interval)
    try:
        # The document names a module as it was asked for ("-m pytest"), not by its file.
        module = f"-m {prepared.module}" if prepared.module else None
        _session.start_engine(options, program=module or prepared.path,
                              argv=[module or prepared.argv[0], *prepared.argv[1:]],
                              program_dirs=[prepared.program_dir], enabled=not args.off,
                              output_dir=_pusher.directory if _pusher is not None else None)
    except (RuntimeError, ValueError) as error:
        fail(str(error), 1)
    if _pusher is not None and _pusher.interval_s is not None:
        _pusher.start_sidecar(_session.run_directory())
    _session.on_first_process_exit = finish
    _session.first_process_sigterm_handler = _terminate
    signal.signal(signal.SIGTERM, _terminate)
    end_as_python_would(run(prepared))


_output: Optional[Output] = None
_first_pid = 0
_pusher: Optional[_push.Pusher] = None
_finished = False
# The signal to die by once every exit handler has run (see end_as_python_would).
_signal_at_exit = 0


def finish() -> None:
    """Stops profiling and writes the report, once, in the command's own process (a forked
    child's session is heatline._session's), then pushes it (--push). Ctrl-C no longer
    interrupts from here."""
    global _finished
    if _finished or os.getpid() != _first_pid or not _core.is_running() or _output is None:
        return
    _finished = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    silence_the_program()
    if _pusher is not None:
        _pusher.stop_sidecar()
    document = _session.stop_engine()
    write_output(profile_renderer(document, _output), _output, keep=True)
    say_where(_output)
    write_exports(encode_exports(document, _output.exports))
    if _pusher is not None:
        _pusher.push_rest(document)


def silence_the_program() -> None:
    """The program has finished: none of its code may run while the report is written, since
    under python3 the process would be gone. Its interval timers (signal.alarm, setitimer) are
    disarmed and its Python signal handlers set aside; a SIGTERM still ends heatline, once the
    report is written."""
    for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
        signal.setitimer(timer, 0)
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may change handlers; a program thread's os._exit ends here
    for signum in signal.valid_signals():
        handler = signal.getsignal(signum)
        if signum == signal.SIGTERM:
            signal.signal(signum, _terminate)
        elif callable(handler):
            # SIGCHLD ignored would reap children the merge still reads about: its default is
            # already to ignore it.
            signal.signal(signum, signal.SIG_DFL if signum == signal.SIGCHLD else signal.SIG_IGN)


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
