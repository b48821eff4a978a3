"""IPython and Jupyter magics: profile one statement or one cell inside a running kernel.

    %load_ext heatline
    %heatline [options] statement
    %%heatline [options]
    ...the cell...

The engine starts in the kernel's own process through the API's session functions
(_session.start_engine / stop_engine), so CPU time, memory and copies are all measured without
restarting anything. The report appears inline as HTML (text in a terminal IPython), or as text
with --cli; --json-out FILE also saves the profile document.

Which code is profiled. The engine profiles code whose file is a path under the program's
directories (src/core/filter.c). The profiled statement or cell body is compiled here under the
name of the code that ran the magic, shifted to that code's line numbers: ipykernel names each
cell /tmp/ipykernel_PID/HASH.py, so the statement and the functions defined in the same cell
share one file, and the kernel's cell directory is one of the program's directories (functions
of earlier cells are profiled too). Terminal IPython names a cell "<ipython-input-3-HASH>", which
is no path: the code is then compiled under a path of our own, CELLS_DIR/ipython-input-3-HASH.py
(never written to disk), and code of other cells is not profiled (its time goes to the line that
calls it). The working directory is a program directory too, as for heatline.start().

What the magic changes in the document (docs/profile-format.md) before showing or saving it:
- a file that is a cell is keyed "In [N]" (N its execution count) instead of its path, and
  carries "cell": N and "cell_file": the name the code ran under; every other file keeps its
  absolute path and carries "cell": null;
- the "source" of a cell's lines is the cell's text as typed (line 1 of a %%heatline cell is
  the %%heatline line; the body starts at line 2), or as IPython transformed it when the two
  differ in their number of lines;
- "program" is the label of the cell that ran the magic, and "argv" that label alone (the
  kernel's own command line says nothing about the cell); memory_peak.file and
  profiled_functions[].file are relabelled like the files;
- the kernel's own threads are set aside: the threads of this process that were already running
  when profiling started, but the one that runs the cell (ipykernel's IOPub, Heartbeat, Control,
  Shell channel, ZeroMQ's I/O threads, IPython's history thread). They wait for messages all the
  time the cell runs, and that waiting would count as system time on no line of the program,
  several times the cell's own time. They move from "threads" to "kernel_threads", and their
  time leaves the totals, "outside_program_s" and every percentage. When they took more time
  than "outside_program_s" holds (one of them ran the program's lines: a thread a cell started
  before), the document keeps them and "kernel_threads" is empty. Their call stacks go too: those
  rooted in a thread's bootstrap with no frame of the program, and the empty stack (the time of
  a thread never sampled).
"""

from __future__ import annotations

import ast
import io
import linecache
import os
import re
import shlex
import sys
import tempfile
import threading
import types
from typing import Any, NamedTuple, Optional

import IPython
from IPython.core.error import UsageError
from IPython.core.magic import (Magics, line_cell_magic, magics_class, needs_local_scope, no_var_expand,
                                output_can_be_silenced)
from IPython.core.magic_arguments import argument, argument_group, kwds, magic_arguments
from IPython.display import display

from . import _core, _session
from .report import render_html, render_text, write_json

# Where code of a cell that has no file name of its own is compiled (nothing is written there).
CELLS_DIR = os.path.join(tempfile.gettempdir(), f"heatline-cells-{os.getpid()}")
_IPYTHON_DIR = os.path.dirname(os.path.abspath(IPython.__file__)) + os.sep
# One word at the start of a %heatline line: quoted parts allowed ("--json-out 'a b.json'").
_WORD = re.compile(r"""\s*((?:"[^"]*"|'[^']*'|[^\s"'])+)""")
_TIME_KINDS = ("python_s", "native_s", "system_s")
_PERCENT_KINDS = ("python", "native", "system", "gil_wait")
# The engine writes seconds rounded: the kernel threads' time may pass outside_program_s by this
# much each without having been on a program line.
_ROUNDING_S = 1e-6
# The text report's width where there is no terminal to ask (a notebook's output area): room
# for the memory columns, which need 100.
NOTEBOOK_TEXT_COLUMNS = 120
_VALUE_OPTIONS = {"--cpu-sampling-interval", "--memory-sampling-rate", "--profile-only", "--profile-exclude",
                  "--json-out"}


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(HeatlineMagics)


def _seconds(text: str) -> float:
    low, high = _session.CPU_SAMPLING_INTERVAL_RANGE_S
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--cpu-sampling-interval: expected seconds, got {text!r}") from None
    if not low <= value <= high:
        raise UsageError(f"--cpu-sampling-interval must be between {low:g} and {high:g} seconds, got {text}")
    return value


def _bytes(text: str) -> int:
    low, high = _session.MEMORY_SAMPLING_RATE_RANGE_BYTES
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--memory-sampling-rate: expected a whole number of bytes, got {text!r}") from None
    if not low <= value <= high:
        raise UsageError(f"--memory-sampling-rate must be between {low} and {high} bytes, got {value}")
    return value


def split_line(line: str) -> tuple[list[str], str]:
    """The options at the start of a %heatline line, and the statement after them as typed.
    Options end at the first word that is not one (or at `--`)."""
    words: list[str] = []
    position = 0
    takes_value = False
    while True:
        match = _WORD.match(line, position)
        if match is None:
            break
        word = match.group(1)
        if not takes_value and not word.startswith("-"):
            break
        position = match.end()
        if not takes_value and word == "--":
            break
        words.append(shlex.split(word)[0] if takes_value else word)
        takes_value = not takes_value and word in _VALUE_OPTIONS
    return words, line[position:].strip()


class Caller(NamedTuple):
    """The code that ran the magic: its file name, the line of the magic, and its cell's
    execution count when it is a cell."""

    filename: str
    line: int
    count: Optional[int]


def find_caller(shell: Any) -> Caller:
    """The first frame above the magic that is neither heatline's nor IPython's."""
    frame: Optional[types.FrameType] = sys._getframe(1)
    while frame is not None and (frame.f_code.co_filename == __file__
                                 or frame.f_code.co_filename.startswith(_IPYTHON_DIR)):
        frame = frame.f_back
    if frame is None:
        return Caller("<heatline>", 1, None)
    filename = frame.f_code.co_filename
    return Caller(filename, frame.f_lineno or 1, _cell_numbers(shell).get(filename))


def _cell_numbers(shell: Any) -> dict[str, int]:
    """The execution count of each cell's code name (IPython 8 and later keep it for tracebacks)."""
    return getattr(shell.compile, "_filename_map", {})


def code_filename(caller: Caller) -> str:
    """The name the profiled code is compiled under: the caller's own when it is a path, so that
    the engine sees the cell (or the script) as one file; else a path of our own named after it,
    since the engine profiles only code whose file name is a path."""
    if os.path.isabs(caller.filename):
        return caller.filename
    stem = re.sub(r"[^\w.-]", "", caller.filename) or "code"
    return os.path.join(CELLS_DIR, stem + ".py")


def register_lines(filename: str, lines: list[str]) -> None:
    """Tracebacks and the report read the lines of code compiled here from linecache (an entry
    without a modification time stays there)."""
    linecache.cache[filename] = (sum(len(line) + 1 for line in lines), None, [line + "\n" for line in lines],
                                 filename)


def register_cell(shell: Any, filename: str, count: int, lines: list[str]) -> None:
    """A cell's lines, and its number: IPython's tracebacks name it "Cell In[N]" from its
    compiler's map, and the report "In [N]"."""
    register_lines(filename, lines)
    _cell_numbers(shell)[filename] = count


def cell_source(shell: Any, filename: str, count: int) -> list[str]:
    """The lines of a cell as typed, or as IPython ran them when the two differ in length (the
    line numbers are those of the code that ran)."""
    ran = [line.rstrip("\n") for line in linecache.getlines(filename)]
    typed_cells = getattr(getattr(shell, "history_manager", None), "input_hist_raw", [])
    typed = typed_cells[count].splitlines() if 0 <= count < len(typed_cells) else []
    return typed if typed and len(typed) == len(ran) else ran


def cell_label(count: int) -> str:
    return f"In [{count}]"


def relabel_cells(shell: Any, document: dict[str, Any]) -> dict[str, Any]:
    """The document with cells named "In [N]" and their lines' source as typed (see the module's
    docstring)."""
    numbers = _cell_numbers(shell)
    labels: dict[str, str] = {}
    files: dict[str, Any] = {}
    for path, entry in document["files"].items():
        count = numbers.get(path)
        if count is None:
            # Code compiled here for a %%heatline run by code rather than by a cell: its lines
            # are in linecache only.
            source = [] if os.path.exists(path) else [line.rstrip("\n") for line in linecache.getlines(path)]
            files[path] = {**entry, "lines": _with_source(entry["lines"], source), "cell": None}
            continue
        label = cell_label(count)
        if label in files:  # two codes ran as one cell number (a cell run without history)
            label = f"{label} {path}"
        labels[path] = label
        lines = _with_source(entry["lines"], cell_source(shell, path, count))
        files[label] = {**entry, "lines": lines, "cell": count, "cell_file": path}
    relabelled = {**document, "files": files}
    if document.get("stacks"):
        frames = [{**frame, "file": labels.get(frame["file"], frame["file"])} for frame in document["stacks"]["frames"]]
        relabelled["stacks"] = {**document["stacks"], "frames": frames}
    peak = document.get("memory_peak")
    if peak and peak.get("file") in labels:
        relabelled["memory_peak"] = {**peak, "file": labels[peak["file"]]}
    if document.get("profiled_functions"):
        relabelled["profiled_functions"] = [{**function, "file": labels.get(function["file"], function["file"])}
                                            for function in document["profiled_functions"]]
    return relabelled


def set_aside_kernel_threads(document: dict[str, Any], kernel_tids: set[int]) -> dict[str, Any]:
    """The document without the kernel's threads (see the module's docstring)."""
    pid = os.getpid()
    kernel = [thread for thread in document["threads"] if thread["pid"] == pid and thread["tid"] in kernel_tids]
    totals = document["totals"]
    kernel_s = sum(thread[kind] for thread in kernel for kind in _TIME_KINDS)
    if not kernel or kernel_s > totals["outside_program_s"] + _ROUNDING_S * len(kernel):
        return {**document, "kernel_threads": []}
    totals = {**totals, "outside_program_s": _seconds_left(totals["outside_program_s"], kernel_s)}
    for kind in (*_TIME_KINDS, "gil_wait_s", "idle_s"):  # the kernel's threads idle between cells
        totals[kind] = _seconds_left(totals.get(kind, 0.0), sum(thread.get(kind, 0.0) for thread in kernel))
    total_s = sum(totals[kind] for kind in _TIME_KINDS)
    files = {path: _with_percentages(entry, total_s) for path, entry in document["files"].items()}
    return {**document, "totals": totals, "files": files, "kernel_threads": kernel,
            "threads": [thread for thread in document["threads"] if thread not in kernel],
            "stacks": _without_kernel_stacks(document.get("stacks"))}


def _without_kernel_stacks(section: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The stacks less those of threads started by the kernel: stacks are not kept by thread, so
    these are told by their shape, a thread's bootstrap at the root and no frame of the program
    in them (a thread a cell started that never ran the program's code looks the same, and goes
    with them)."""
    if not section:
        return section
    frames = section["frames"]

    def kernel_thread(stack: dict[str, Any]) -> bool:
        path = [frames[i] for i in stack["frames"]]
        if not path:
            return True  # the time of a thread never sampled, such as a kernel thread that only waited
        return (path[0]["file"] or "").endswith("threading.py") and not any(frame["program"] for frame in path)

    return {**section, "stacks": [stack for stack in section["stacks"] if not kernel_thread(stack)]}


def _seconds_left(seconds: float, less_s: float) -> float:
    """seconds - less_s, at the engine's nanosecond rounding (never below 0)."""
    return max(0.0, round(seconds - less_s, 9))


def _with_percentages(file: dict[str, Any], total_s: float) -> dict[str, Any]:
    """A file's entry with its percentages, and its lines' and functions', of `total_s`."""
    def share(seconds: float) -> float:
        return seconds / total_s * 100 if total_s > 0 else 0.0

    def entry_with(entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, **{f"{kind}_percent": share(entry[f"{kind}_s"]) for kind in _PERCENT_KINDS}}

    return {**file, "percent": share(sum(file[kind] for kind in _TIME_KINDS)),
            "lines": [entry_with(line) for line in file["lines"]],
            "functions": [entry_with(function) for function in file["functions"]]}


def _with_source(lines: list[dict[str, Any]], source: list[str]) -> list[dict[str, Any]]:
    return [{**line, "source": source[line["line"] - 1]} if line["line"] <= len(source) else line for line in lines]


def compile_parts(shell: Any, source: str, filename: str) -> tuple[types.CodeType, Optional[types.CodeType]]:
    """The code to run, and the code of its last statement when that is an expression (its value
    is the magic's result, shown as the cell's output). `source` is already at the caller's line
    numbers."""
    tree = shell.transform_ast(shell.compile.ast_parse(source, filename=filename))
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = shell.compile(ast.Expression(tree.body.pop().value), filename, "eval")
    return shell.compile(tree, filename, "exec"), last


@magics_class
class HeatlineMagics(Magics):
    @line_cell_magic
    @needs_local_scope
    @no_var_expand
    @output_can_be_silenced  # a trailing ";" hides the value, as without the magic
    @magic_arguments()
    # IPython puts "%" before the usage, and argparse formats it with %: "%%" is one "%".
    @kwds(usage="heatline [options] statement\n  %%%%heatline [options]\n  (the cell's code on the next lines)")
    @argument_group("what to measure")
    @argument("--cpu-only", action="store_true",
              help="profile CPU time only (no memory or copies; the GPU stays on): the lowest overhead")
    @argument("--gpu", dest="gpu", action="store_true", default=True,
              help="read the NVIDIA GPU's utilization and this process's GPU memory through NVML "
                   "(the default; without a GPU or driver the GPU columns stay away and a note says why)")
    @argument("--no-gpu", dest="gpu", action="store_false", default=True,
              help="do not read the GPU")
    @argument("--cpu-sampling-interval", type=_seconds, metavar="SECONDS",
              default=_session.DEFAULT_CPU_SAMPLING_INTERVAL_S,
              help="CPU time between samples of each thread (default %(default)s)")
    @argument("--memory-sampling-rate", type=_bytes, metavar="BYTES",
              default=_session.DEFAULT_MEMORY_SAMPLING_RATE_BYTES,
              help="mean bytes allocated (or copied) between memory samples; smaller is more "
                   "precise and slower (default %(default)s)")
    @argument_group("which code is the program")
    @argument("--profile-all", action="store_true",
              help="profile every file, standard library and site-packages included")
    @argument("--profile-only", metavar="PATTERNS", default="",
              help="profile only files whose path contains one of these comma-separated strings")
    @argument("--profile-exclude", metavar="PATTERNS", default="",
              help="never profile files whose path contains one of these comma-separated strings")
    @argument("--no-children", action="store_true",
              help="profile this process only, not the Python processes the code starts")
    @argument_group("output")
    @argument("--reduced-profile", action="store_true",
              help="show only lines and functions with at least 1%% of the time, memory allocated, "
                   "peak or copies, and suspected leaks (the JSON document holds every line)")
    @argument("--json-out", metavar="FILE", help="also write the profile document (JSON) to FILE")
    @argument("--cli", action="store_true", help="print the text report instead of showing HTML")
    def heatline(self, line: str, cell: Optional[str] = None, local_ns: Optional[dict[str, Any]] = None) -> Any:
        """Profile a statement (%heatline) or a cell (%%heatline) with heatline: CPU time split into
        Python, native and system, memory allocated and copied, line by line, shown as the cell's
        own lines ("In [3]", line 2)."""
        __tracebackhide__ = True  # noqa: F841 (IPython leaves this frame out of tracebacks)
        words, statement = split_line(line)
        args = self.heatline.parser.parse_args(words)
        if cell is None and not statement:
            raise UsageError("%heatline needs a statement: %heatline [options] statement")
        if cell is not None and statement:
            raise UsageError(f"%%heatline takes only options on its first line, not {statement!r}")
        if args.json_out:
            _check_writable(args.json_out)
        if _core.is_running():
            raise UsageError("heatline is already profiling this process (heatline.start(), @heatline.profile "
                             "or the heatline command): call heatline.stop() first")
        options = _session.Options(
            cpu_sampling_interval=args.cpu_sampling_interval, profile_all=args.profile_all,
            profile_only=args.profile_only, profile_exclude=args.profile_exclude,
            reduced_profile=args.reduced_profile, cpu_only=args.cpu_only,
            memory_sampling_rate=args.memory_sampling_rate, children=not args.no_children, gpu=args.gpu)
        caller = find_caller(self.shell)
        code, last = self._compile(caller, line, cell, statement)
        globals_ = self.shell.user_ns
        locals_ = globals_ if local_ns is None else local_ns
        program_dirs = [os.getcwd(), os.path.dirname(code.co_filename)]
        program_dirs += {os.path.dirname(name) for name in _cell_numbers(self.shell) if os.path.isabs(name)}
        kernel_tids = _thread_ids() - {threading.get_native_id()}
        program = cell_label(caller.count) if caller.count is not None else caller.filename
        try:
            _session.start_engine(options, program=program, argv=[program], program_dirs=program_dirs)
        except (RuntimeError, ValueError) as error:
            raise UsageError(f"heatline: {error}") from None
        try:
            exec(code, globals_, locals_)
            return eval(last, globals_, locals_) if last is not None else None
        finally:
            document = set_aside_kernel_threads(_session.stop_engine(), kernel_tids)
            document = relabel_cells(self.shell, document)
            _show(document, args)

    def _compile(self, caller: Caller, line: str, cell: Optional[str],
                 statement: str) -> tuple[types.CodeType, Optional[types.CodeType]]:
        """The statement at the caller's line, or the cell body from the line after the
        %%heatline line on, compiled under code_filename(caller)."""
        if cell is not None and caller.count is None:
            # Run by code (shell.run_cell_magic), not by a cell: the body is a file of its own.
            caller = Caller("<heatline-cell>", 0, None)
        filename = code_filename(caller)
        if cell is None:
            body, first_line = statement, caller.line
        else:
            body, first_line = cell, caller.line + 1
        transformed = self.shell.transform_cell(body)
        if cell is not None:
            typed = body.splitlines()
            shown = typed if len(typed) == len(transformed.splitlines()) else transformed.splitlines()
            if caller.count is None:
                register_lines(filename, shown)
            else:
                register_cell(self.shell, filename, caller.count, [f"%%heatline {line}".rstrip()] + shown)
        elif filename != caller.filename and caller.count is not None:
            cell_lines = [text.rstrip("\n") for text in linecache.getlines(caller.filename)]
            register_cell(self.shell, filename, caller.count, cell_lines)
        elif filename != caller.filename:
            register_lines(filename, [""] * (caller.line - 1) + [statement])
        return compile_parts(self.shell, "\n" * (first_line - 1) + transformed, filename)


def _thread_ids() -> set[int]:
    """The operating system's ids of this process's threads, Python's or not."""
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return {thread.native_id for thread in threading.enumerate() if thread.native_id is not None}


def _check_writable(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"--json-out {path!r} is a directory")
    if not os.path.isdir(directory):
        raise UsageError(f"--json-out {path!r}: no such directory {directory!r}")


def _show(document: dict[str, Any], args: Any) -> None:
    """The report: text with --cli, else HTML with the text as the plain fallback; and the
    document in --json-out's file."""
    if args.json_out:
        try:
            with open(args.json_out, "w", encoding="utf-8") as out:
                write_json(document, out)
        except OSError as error:
            print(f"heatline: cannot write {args.json_out!r}: {error.strerror}", file=sys.stderr)
    width = None if sys.stdout.isatty() or "COLUMNS" in os.environ else NOTEBOOK_TEXT_COLUMNS
    if args.cli:
        sys.stdout.flush()
        render_text(document, sys.stdout, reduced=args.reduced_profile, width=width)
        sys.stdout.flush()
        return
    text = io.StringIO()
    render_text(document, text, color=False, reduced=args.reduced_profile, width=width)
    display({"text/html": _html(document, args.reduced_profile), "text/plain": text.getvalue()}, raw=True)


def _html(document: dict[str, Any], reduced: bool) -> str:
    out = io.StringIO()
    render_html(document, out, reduced=reduced, standalone=False)
    return out.getvalue()
