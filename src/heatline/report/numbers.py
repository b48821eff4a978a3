"""How every report writes numbers and places: the terminal report, the HTML page and the diff
write the same figure the same way. Plain strings; no rich, no markup.
"""

from __future__ import annotations

import os
from typing import Any, Optional


def seconds(value: float) -> str:
    """2.31 s, 845 ms, 3.2 ms, <0.1 ms, 0 s; each cut-off taken after rounding, so that 9.997 ms
    is "10 ms" and 0.9996 s is "1.00 s"."""
    if value >= 0.9995:
        return f"{value:.2f} s"
    if value == 0:
        return "0 s"
    milliseconds = value * 1000
    if milliseconds >= 9.95:
        return f"{milliseconds:.0f} ms"
    if milliseconds >= 0.05:
        return f"{milliseconds:.1f} ms"
    return "<0.1 ms"


def percent(value: float) -> str:
    """A percentage to a tenth; a small nonzero one is "<0.1%", never "0.0%"."""
    if 0 < value and round(value, 1) == 0:
        return "<0.1%"
    return f"{value:.1f}%"


def percent_cell(value: float) -> str:
    """Zero stays blank in tables, so that the time that exists stands out."""
    return percent(value) if value else ""


def fraction_percent(fraction: float) -> str:
    """A share, such as the Python part of the memory allocated: rounded, so 0.996 is 100%.
    A probability is written by document.likelihood_percent instead, never rounded up."""
    return f"{fraction * 100:.0f}%"


def megabytes_number(value: float) -> str:
    """MB to a tenth; zero stays blank in tables, like time."""
    if value == 0:
        return ""
    if round(value, 1) == 0:
        return "<0.1"
    return f"{value:.1f}"


def megabytes(value: float) -> str:
    return f"{megabytes_number(value) or '0'} MB"


def rate(mb_s: float) -> str:
    """MB per second to a hundredth."""
    if 0 < mb_s < 0.01:
        return "<0.01"
    return f"{mb_s:.2f}"


def byte_count(value: int) -> str:
    """A sampling rate: 1 MB, 256 KB, 100 bytes."""
    if value >= 2**20:
        return f"{value / 2**20:g} MB"
    if value >= 2**10:
        return f"{value / 2**10:g} KB"
    return f"{value} bytes"


def location(doc: dict[str, Any], path: str, number: Optional[int]) -> str:
    """path:line, the path relative to the program's directory when the file is under it, else
    to the current directory when it is under that."""
    program_dir = os.path.dirname(doc["program"]) if os.path.isabs(doc["program"]) else ""
    if program_dir and path.startswith(program_dir + os.sep):
        path = path[len(program_dir) + 1:]
    else:
        path = shown_path(path)
    return path if number is None else f"{path}:{number}"


def shown_path(path: str) -> str:
    """The path relative to the current directory when the file lies under it, else as given."""
    try:
        cwd = os.getcwd()
    except OSError:  # the program may have removed the directory it ran in
        return path
    if os.path.isabs(path) and path.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(path, cwd)
    return path
