"""Sessions: turning user options into the engine's configuration, and its documents into dicts.

One session runs at a time. The `heatline` command owns the session it starts (the program's
`heatline.start()`/`stop()` then only resume and pause it); otherwise the API owns it.
"""

from __future__ import annotations

import atexit
import dis
import json
import opcode
import os
import site
import sys
import sysconfig
from typing import Any, Callable, Iterable, NoReturn, Optional, Sequence

from . import _core, _processes
from ._version import VERSION

DEFAULT_CPU_SAMPLING_INTERVAL_S = 0.005
# Mean bytes between two memory samples; chosen by measurement (docs/how-it-works.md).
DEFAULT_MEMORY_SAMPLING_RATE_BYTES = 1 << 20
# The engine's own limits (it checks them again).
CPU_SAMPLING_INTERVAL_RANGE_S: tuple[float, float] = _core.CPU_SAMPLING_INTERVAL_RANGE_S
MEMORY_SAMPLING_RATE_RANGE_BYTES: tuple[int, int] = _core.MEMORY_SAMPLING_RATE_RANGE_BYTES

# (file, qualified name, first line, last line) of each function decorated with @profile.
profiled_functions: list[tuple[str, str, int, int]] = []
# Set while the `heatline` command runs a program.
owned_by_cli = False


class Options:
    """What a user can choose about a session (CLI flags and API keywords)."""

    KEYWORDS = ("cpu_sampling_interval", "profile_all", "profile_only", "profile_exclude", "reduced_profile",
                "cpu_only", "memory_sampling_rate", "children", "gpu", "idle")

    def __init__(self, cpu_sampling_interval: float = DEFAULT_CPU_SAMPLING_INTERVAL_S, profile_all: bool = False,
                 profile_only: Iterable[str] | str = (), profile_exclude: Iterable[str] | str = (),
                 reduced_profile: bool = False, cpu_only: bool = False,
                 memory_sampling_rate: int = DEFAULT_MEMORY_SAMPLING_RATE_BYTES, children: bool = True,
                 gpu: bool = True, idle: bool = False) -> None:
        self.cpu_sampling_interval = float(cpu_sampling_interval)
        self.profile_all = bool(profile_all)
        self.profile_only = split_patterns(profile_only)
        self.profile_exclude = split_patterns(profile_exclude)
        self.reduced_profile = bool(reduced_profile)
        self.cpu_only = bool(cpu_only)
        if isinstance(memory_sampling_rate, bool) or not isinstance(memory_sampling_rate, int):
            raise TypeError("memory_sampling_rate must be an int (bytes)")
        self.memory_sampling_rate = memory_sampling_rate
        self.children = bool(children)
        # The GPU is read through NVML by a thread of its own; --cpu-only leaves it on (it is cheap).
        self.gpu = bool(gpu)
        # Idle waiting (threads blocked waiting for work) is its own figure, outside the time,
        # unless asked for as time (system time, where the thread waits).
        self.idle = bool(idle)

    def keywords(self) -> dict[str, Any]:
        """The options as keywords again (what a child process is started with)."""
        return {key: getattr(self, key) for key in self.KEYWORDS}

    @classmethod
    def from_keywords(cls, keywords: dict[str, Any]) -> "Options":
        unknown = sorted(set(keywords) - set(cls.KEYWORDS))
        if unknown:
            raise TypeError(f"unknown heatline option(s): {', '.join(unknown)}")
        return cls(**keywords)


def split_patterns(value: Iterable[str] | str) -> tuple[str, ...]:
    """Patterns given as "a,b" or as a list of strings."""
    items = [value] if isinstance(value, str) else list(value)
    return tuple(part.strip() for item in items for part in item.split(",") if part.strip())


def call_opcodes() -> list[int]:
    """Every opcode, specialized forms included, that calls something (CALL_INTRINSIC_* runs
    no user code and is left out)."""
    names: dict[str, int] = {}
    names.update(getattr(dis, "_all_opmap", {}) or {})
    names.update(opcode.opmap)
    names.update(getattr(opcode, "_specialized_opmap", {}) or {})
    return sorted({code for name, code in names.items() if "CALL" in name and "INTRINSIC" not in name and 0 <= code < 256})


def library_dirs() -> list[str]:
    """The standard library and every site-packages directory: not the program by default."""
    paths = sysconfig.get_paths()
    dirs = {paths.get(key, "") for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    dirs.update(getattr(site, "getsitepackages", lambda: [])())
    user_site = getattr(site, "getusersitepackages", lambda: "")()
    if user_site:
        dirs.add(user_site)
    return sorted(_with_real_paths(d for d in dirs if d))


# The script that launched heatline (the `heatline` command's console script), set by the
# command: its frame is heatline's own, like the package's.
launcher_script: Optional[str] = None


def own_dirs() -> list[str]:
    launcher = []
    if launcher_script:
        # Python names the script's code as typed, joined to the working directory but not
        # normalized ("/home/u/./.venv/bin/heatline").
        launcher = [launcher_script, os.path.join(os.getcwd(), launcher_script)]
    return sorted(_with_real_paths([os.path.dirname(os.path.abspath(__file__)), *launcher]) | set(launcher))


def _with_real_paths(paths: Iterable[str]) -> set[str]:
    result: set[str] = set()
    for path in paths:
        result.add(os.path.abspath(path))
        result.add(os.path.realpath(path))
    return result


def engine_config(options: Options, *, program: str, argv: Sequence[str], program_dirs: Sequence[str],
                  enabled: bool) -> dict[str, Any]:
    return {
        "cpu_sampling_interval": float(options.cpu_sampling_interval),
        "memory_sampling_rate": None if options.cpu_only else options.memory_sampling_rate,
        "enabled": enabled,
        "gpu": options.gpu,
        "idle": options.idle,
        "profile_all": options.profile_all,
        "program_dirs": sorted(_with_real_paths(program_dirs)),
        "library_dirs": library_dirs(),
        "own_dirs": own_dirs(),
        "only_patterns": list(options.profile_only),
        "exclude_patterns": list(options.profile_exclude),
        "call_opcodes": call_opcodes(),
        "program": program,
        "argv": [str(arg) for arg in argv],
        "python_version": sys.version.split()[0],  # what platform.python_version() reads
        "heatline_version": VERSION,
    }


# ---- the session of this process, and the processes of the run -----------------------------

# The run's children: held by its first process (None with children=False, or in a child).
_run: Optional[_processes.Run] = None
# The run a child process belongs to (None in the first process).
_child_spec: Optional[dict[str, Any]] = None
# What a forked child needs to start its own session: the running session's options and
# engine configuration, and whether sampling was on at the fork.
_running: Optional[tuple[Options, dict[str, Any]]] = None
_enabled_at_fork = True
# The `heatline` command's report, written when its process leaves through os._exit.
on_first_process_exit: Optional[Callable[[], None]] = None
# The `heatline` command's SIGTERM handler: a forked child goes back to the default action.
first_process_sigterm_handler: Any = None
_hooks_registered = False
_real_exit = os._exit


def start_engine(options: Options, *, program: str, argv: Sequence[str], program_dirs: Sequence[str],
                 enabled: bool = True, output_dir: Optional[str] = None) -> None:
    """Starts this process's session; in a run's first process, children are profiled too
    unless options.children is false. With output_dir, the engine writes this process's
    document there while it runs, as a child's into the run's directory (heatline._push reads it)."""
    global _run, _running
    config = engine_config(options, program=program, argv=argv, program_dirs=program_dirs, enabled=enabled)
    if output_dir is not None:
        config["output_dir"] = output_dir
    run = None
    if options.children and _child_spec is None and _run is None:
        run = _processes.begin(options.keywords(), config["program_dirs"], program, _core.monotonic_ns())
    try:
        _core.start(config)
    except BaseException:
        if run is not None:
            _processes.end(run)
        raise
    _run = run or _run
    _running = (options, config)
    _register_process_hooks()


def run_directory() -> Optional[str]:
    """The directory the run's children write their documents to (None: children not profiled)."""
    return _run.directory if _run is not None else None


def start_child(spec: dict[str, Any], start_method: str, argv: list[str]) -> None:
    """Starts the session of a process that a profiled run started (heatline._child)."""
    global _child_spec, _running
    options = Options.from_keywords(spec["options"])
    config = engine_config(options, program=str(spec.get("program", "")), argv=argv,
                           program_dirs=spec["program_dirs"], enabled=True)
    config.update(output_dir=spec["dir"], start_method=start_method, run_start_ns=spec["run_start_ns"])
    _core.start(config)
    _child_spec = spec
    _running = (options, config)
    _register_process_hooks()


def is_child() -> bool:
    return _child_spec is not None


def leave_run() -> None:
    """This process starts a run of its own (the `heatline` command, started inside a profiled
    run): the session the outer run's start-up hook gave it ends here."""
    global _child_spec, _running
    if _child_spec is not None and _core.is_running():
        _core.stop(None)
    _child_spec = None
    _running = None


def _register_process_hooks() -> None:
    """Once per process: the fork hooks, the exit handler, and os._exit's wrapper."""
    global _hooks_registered
    if _hooks_registered:
        return
    _hooks_registered = True
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
    atexit.register(_at_exit)
    os._exit = _exit_now  # type: ignore[assignment]


# Python 3.12+ warns at os.fork when the process has more than one thread, counting the
# operating system's threads: heatline's helper and GPU poller must not make it warn about a program that has
# one thread. The filter is set or taken away before each fork (3.13 warns after the at-fork
# hooks of the parent have run, so it stays until the next fork; it matches nothing else).
_FORK_WARNING = r"This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to deadlocks"
_fork_filter: Optional[tuple[Any, ...]] = None


def _before_fork() -> None:
    global _enabled_at_fork, _fork_filter
    _enabled_at_fork = bool(_core.is_enabled())
    if sys.version_info < (3, 12):
        return
    import warnings

    if _fork_filter is not None:
        try:
            warnings.filters.remove(_fork_filter)
            warnings._filters_mutated()  # type: ignore[attr-defined]
        except (ValueError, AttributeError):
            pass
        _fork_filter = None
    if _core.is_running() and _program_threads() <= 1:
        warnings.filterwarnings("ignore", message=_FORK_WARNING, category=DeprecationWarning)
        _fork_filter = warnings.filters[0]


def _program_threads() -> int:
    """The process's threads, heatline's own (the helper, the GPU poller) left out."""
    own = _core.own_threads()
    try:
        listed = {int(tid) for tid in os.listdir("/proc/self/task")}
    except OSError:
        return 2
    # A thread of heatline's whose id is not known yet is still one of the listed.
    return len(listed - set(own)) - own.count(-1)


def _after_fork_in_child() -> None:
    """The engine forgot the parent's session at the fork (session.c); a run that profiles its
    children starts the child's own here, before the child runs any of the program's code."""
    global _run, _child_spec, _running
    _processes.default_sigterm(first_process_sigterm_handler)
    running, spec = _running, (_run.spec if _run is not None else _child_spec)
    _running = None
    _run = None
    if running is None or spec is None:
        _child_spec = None
        return
    options, config = running
    method = "forkserver" if config.get("start_method") == "forkserver" else "fork"
    config = dict(config, output_dir=spec["dir"], start_method=method, run_start_ns=spec["run_start_ns"],
                  argv=[str(arg) for arg in sys.argv], enabled=_enabled_at_fork)
    try:
        _core.start(config)
    except (RuntimeError, ValueError):
        _child_spec = None
        return
    _child_spec = spec
    _running = (options, config)


def _at_exit() -> None:
    """A session still running when the interpreter exits: a child's document is written; the
    `heatline` command's own session is its to report (cli.py); an API session nobody stopped
    ends quietly, before the interpreter tears its threads down."""
    if not _core.is_running() or (owned_by_cli and _child_spec is None):
        return
    if _child_spec is not None:
        _core.stop(None)
        return
    _stop_quietly()


def _exit_now(status: int) -> NoReturn:
    """os._exit skips every exit handler: the session's document is written first."""
    try:
        if _core.is_running():
            if _child_spec is not None:
                _core.stop(None)
            elif on_first_process_exit is not None:
                on_first_process_exit()
    finally:
        _real_exit(status)


def _stop_quietly() -> None:
    global _run, _running
    if _core.is_running():
        _core.stop(None)
    _running = None
    if _run is not None:
        _processes.end(_run)
        _run = None


def _functions_argument() -> Optional[list[tuple[str, str, int, int]]]:
    return list(profiled_functions) if profiled_functions else None


def stop_engine() -> dict[str, Any]:
    """Ends the session; returns its document, with the children's merged in (in a run's first
    process)."""
    global _run, _running
    document = json.loads(_core.stop(_functions_argument()))
    _running = None
    if _core.signal_was_replaced():
        print("heatline: the program replaced heatline's sampling signal handler; "
              "CPU samples after that point were lost", file=sys.stderr)
    if _child_spec is not None:
        return document
    children = _processes.end(_run) if _run is not None else []
    _run = None
    return _processes.merge(document, children)


def snapshot() -> dict[str, Any]:
    """The document so far, with the children's documents so far."""
    document = json.loads(_core.snapshot(_functions_argument()))
    if _child_spec is not None:
        return document
    return _processes.merge(document, _processes.collect(_run.directory) if _run is not None else [])


def code_line_range(code: Any) -> tuple[int, int]:
    """First and last line of a function's code, nested code (closures, comprehensions) included."""
    last = code.co_firstlineno
    pending = [code]
    while pending:
        current = pending.pop()
        for _, line in dis.findlinestarts(current):
            if line is not None and line > last:
                last = line
        pending.extend(const for const in current.co_consts if hasattr(const, "co_code"))
    return code.co_firstlineno, last
