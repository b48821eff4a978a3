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
import platform
import site
import sys
import sysconfig
from typing import Any, Iterable, Optional, Sequence

from . import _core
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
                "cpu_only", "memory_sampling_rate")

    def __init__(self, cpu_sampling_interval: float = DEFAULT_CPU_SAMPLING_INTERVAL_S, profile_all: bool = False,
                 profile_only: Iterable[str] | str = (), profile_exclude: Iterable[str] | str = (),
                 reduced_profile: bool = False, cpu_only: bool = False,
                 memory_sampling_rate: int = DEFAULT_MEMORY_SAMPLING_RATE_BYTES) -> None:
        self.cpu_sampling_interval = float(cpu_sampling_interval)
        self.profile_all = bool(profile_all)
        self.profile_only = split_patterns(profile_only)
        self.profile_exclude = split_patterns(profile_exclude)
        self.reduced_profile = bool(reduced_profile)
        self.cpu_only = bool(cpu_only)
        if isinstance(memory_sampling_rate, bool) or not isinstance(memory_sampling_rate, int):
            raise TypeError("memory_sampling_rate must be an int (bytes)")
        self.memory_sampling_rate = memory_sampling_rate

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


def own_dirs() -> list[str]:
    return _with_real_paths([os.path.dirname(os.path.abspath(__file__))])


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
        "profile_all": options.profile_all,
        "program_dirs": sorted(_with_real_paths(program_dirs)),
        "library_dirs": library_dirs(),
        "own_dirs": own_dirs(),
        "only_patterns": list(options.profile_only),
        "exclude_patterns": list(options.profile_exclude),
        "call_opcodes": call_opcodes(),
        "program": program,
        "argv": [str(arg) for arg in argv],
        "python_version": platform.python_version(),
        "heatline_version": VERSION,
    }


def start_engine(options: Options, *, program: str, argv: Sequence[str], program_dirs: Sequence[str],
                 enabled: bool = True) -> None:
    _core.start(engine_config(options, program=program, argv=argv, program_dirs=program_dirs, enabled=enabled))
    global _stop_at_exit_registered
    if not _stop_at_exit_registered:
        # A session nobody stopped must end before the interpreter tears its threads down.
        atexit.register(_stop_quietly)
        _stop_at_exit_registered = True


_stop_at_exit_registered = False


def _stop_quietly() -> None:
    if _core.is_running():
        _core.stop(None)


def _functions_argument() -> Optional[list[tuple[str, str, int, int]]]:
    return list(profiled_functions) if profiled_functions else None


def stop_engine() -> dict[str, Any]:
    """Ends the session; returns its document."""
    document = json.loads(_core.stop(_functions_argument()))
    if _core.signal_was_replaced():
        print("heatline: the program replaced heatline's sampling signal handler; "
              "CPU samples after that point were lost", file=sys.stderr)
    return document


def snapshot() -> dict[str, Any]:
    return json.loads(_core.snapshot(_functions_argument()))


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
