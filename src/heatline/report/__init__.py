"""Reports drawn from the profile document (docs/profile-format.md): terminal text and JSON.

This package reads the document only; it never imports the engine (`heatline._core`).
"""

from __future__ import annotations

import json
from typing import Any, Optional, TextIO

from .document import filter_profiled, filter_reduced, visible

__all__ = ["filter_profiled", "filter_reduced", "render_text", "visible", "write_json"]


def render_text(doc: dict[str, Any], out: TextIO, *, color: Optional[bool] = None, reduced: bool = False,
                width: Optional[int] = None) -> None:
    """Write the terminal report of `doc` to `out` (see terminal.render_text). rich is imported
    only here: a program profiled with --json does not pay for it."""
    from . import terminal

    terminal.render_text(doc, out, color=color, reduced=reduced, width=width)


def write_json(doc: dict[str, Any], out: TextIO) -> None:
    """Write `doc` to `out` as indented JSON ending in a newline."""
    json.dump(doc, out, indent=1)
    out.write("\n")
