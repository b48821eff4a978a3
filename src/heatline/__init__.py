"""heatline: a line-level CPU, memory and GPU profiler for Python with a C engine.

Public API, usable under the `heatline` command and in a plain `python3` process:

    heatline.start(**options); ...; document = heatline.stop()
    with heatline.profiling(**options) as session: ...   # session.profile afterwards
    @heatline.profile                                     # report only decorated functions
    %load_ext heatline                                    # IPython/Jupyter: %heatline, %%heatline

Options: cpu_sampling_interval (seconds), cpu_only, memory_sampling_rate (bytes), profile_all,
profile_only, profile_exclude, children (default True: the Python processes the program starts
are profiled too, and stop() returns their work merged in), gpu (default True: an NVIDIA GPU's
utilization and this process's GPU memory are read through NVML when a driver is there).
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
from typing import Any, Callable, Optional, TypeVar

from . import _core, _session

__version__ = _session.VERSION
__all__ = ["start", "stop", "profiling", "profile", "is_running", "report", "__version__"]


def __getattr__(name: str) -> Any:
    """`heatline.report` is imported at its first use, so that `heatline.report.render_text(...)`
    works after `import heatline` while a profiled run does not pay for the report package at its
    start (PEP 562)."""
    if name == "report":
        import importlib

        return importlib.import_module(".report", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

F = TypeVar("F", bound=Callable[..., Any])


def _caller_dirs(depth: int) -> list[str]:
    """Directories whose files are "the program" for a session started from Python: the calling
    file's and the running script's (or the working directory in an interactive session)."""
    dirs = [os.getcwd()]
    frame = sys._getframe(depth + 1)
    filename = frame.f_code.co_filename
    if not filename.startswith("<"):
        dirs.append(os.path.dirname(os.path.abspath(filename)))
    script = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if script and os.path.exists(script):
        dirs.append(os.path.dirname(os.path.abspath(script)))
    return dirs


def _start(options: dict[str, Any], depth: int) -> None:
    global _decorator_session
    if _core.is_running() and _decorator_session:
        # The session decorated calls started (paused between them) is not this one: it ends
        # here, and its report is still printed at exit.
        _decorator_documents.append(_session.stop_engine())
        _decorator_session = False
    if _core.is_running():
        # Inside the `heatline` command (or an API session already started): resume sampling.
        _core.set_enabled(True)
        return
    parsed = _session.Options.from_keywords(options)
    _session.start_engine(parsed, program=sys.argv[0] if sys.argv else "", argv=list(sys.argv),
                          program_dirs=_caller_dirs(depth + 1))


def start(**options: Any) -> None:
    """Start profiling (or, under the `heatline` command or `--off`, resume it)."""
    _start(options, 1)


def stop() -> dict[str, Any]:
    """Stop profiling and return the profile document (docs/profile-format.md) as a dict.

    Under the `heatline` command this pauses sampling and returns the profile so far; the
    command still reports the whole run when the program ends."""
    if not _core.is_running():
        raise RuntimeError("heatline is not running: call heatline.start() first")
    if _session.owned_by_cli:
        _core.set_enabled(False)
        return _session.snapshot()
    global _decorator_session
    _decorator_session = False  # if decorated calls started it, its document is returned here
    return _session.stop_engine()


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext heatline`: the %heatline and %%heatline magics (heatline.jupyter, which is the
    only part of heatline that imports IPython)."""
    from .jupyter import load_ipython_extension as load

    load(ipython)


def is_running() -> bool:
    return bool(_core.is_running()) and bool(_core.is_enabled())


class profiling:
    """`with heatline.profiling(**options) as session:` profiles the block; afterwards
    `session.profile` holds the profile document."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.profile: Optional[dict[str, Any]] = None

    def __enter__(self) -> "profiling":
        _start(self.options, 1)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.profile = stop()


_decorated_depth = 0
# Whether the session running now was started by a decorated call (not by start() or the
# command), and the documents of such sessions that an explicit start() ended.
_decorator_session = False
_decorator_documents: list[dict[str, Any]] = []
_report_registered = False


def _report_at_exit() -> None:
    """Without the `heatline` command, decorated functions are profiled while they run and the
    report is printed to stderr when the interpreter exits."""
    if _decorator_session and _core.is_running():
        _decorator_documents.append(_session.stop_engine())
    if not _decorator_documents:
        return
    for document in _decorator_documents:
        from . import report

        report.render_text(document, sys.stderr)


def profile(function: F) -> F:
    """Mark `function` for profiling. Once any function is decorated, reports show only
    decorated functions. Under the `heatline` command this only marks; in a plain process each
    call of a decorated function is profiled and the report printed to stderr at exit."""
    code = getattr(function, "__code__", None)
    if code is None:
        raise TypeError("@heatline.profile decorates functions")
    first, last = _session.code_line_range(code)
    _session.profiled_functions.append(
        (os.path.abspath(code.co_filename), function.__qualname__, first, last))
    if _session.owned_by_cli:
        return function

    @functools.wraps(function)
    def profiled(*args: Any, **kwargs: Any) -> Any:
        global _decorated_depth, _decorator_session, _report_registered
        if _decorated_depth == 0 and not _core.is_running():
            _session.start_engine(_session.Options(), program=sys.argv[0] if sys.argv else "",
                                  argv=list(sys.argv), program_dirs=_caller_dirs(1))
            if not _report_registered:
                atexit.register(_report_at_exit)
                _report_registered = True
            _decorator_session = True
        elif _decorated_depth == 0 and _decorator_session:
            _core.set_enabled(True)
        # Otherwise a session started with start() (or the command's) is running: it measures
        # the call, and only its owner pauses or stops it.
        _decorated_depth += 1
        try:
            return function(*args, **kwargs)
        finally:
            _decorated_depth -= 1
            if _decorated_depth == 0 and _decorator_session and _core.is_running():
                _core.set_enabled(False)

    return profiled  # type: ignore[return-value]
