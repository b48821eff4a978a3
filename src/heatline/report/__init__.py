"""Reports drawn from the profile document (docs/profile-format.md): terminal text and JSON.

This package reads the document only; it never imports the engine (`heatline._core`).
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from .document import filter_reduced
from .terminal import render_text

__all__ = ["filter_reduced", "render_text", "write_json"]


def write_json(doc: dict[str, Any], out: TextIO) -> None:
    """Write `doc` to `out` as indented JSON ending in a newline."""
    json.dump(doc, out, indent=1)
    out.write("\n")
