"""Reports drawn from the profile document (docs/profile-format.md): terminal text, HTML and JSON,
the comparison of two documents (diff.py: a model, as text or as an HTML page), and the call
stacks in standard formats (pprof.py, speedscope.py, collapsed.py). load_document reads a saved
one.

This package reads the document only; it never imports the engine (`heatline._core`).
"""

from __future__ import annotations

import io
import json
from typing import Any, Optional, TextIO

from .document import filter_profiled, filter_reduced, visible
from .load import DocumentError, load_document
from .stacks import TIME

__all__ = ["DocumentError", "diff_documents", "export", "filter_profiled", "filter_reduced", "load_document",
           "render_diff_html", "render_diff_text", "render_html", "render_text", "visible", "write_json"]


def render_text(doc: dict[str, Any], out: TextIO, *, color: Optional[bool] = None, reduced: bool = False,
                width: Optional[int] = None) -> None:
    """Write the terminal report of `doc` to `out` (see terminal.render_text). rich is imported
    only here: a program profiled with --json does not pay for it."""
    from . import terminal

    terminal.render_text(doc, out, color=color, reduced=reduced, width=width)


def render_html(doc: dict[str, Any], out: TextIO, *, reduced: bool = False, standalone: bool = True) -> None:
    """Write the HTML report of `doc` to `out` (see html.render_html): one page that opens
    offline, or with standalone=False one element for a Jupyter notebook."""
    from . import html

    html.render_html(doc, out, reduced=reduced, standalone=standalone)


def diff_documents(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The comparison of two profile documents, as plain data (see diff.diff_documents). Like
    every report here, the diff module is imported on first use, so that `import heatline` does
    not pay for it."""
    from . import diff

    return diff.diff_documents(before, after)


def render_diff_text(diff: dict[str, Any], out: TextIO, *, color: Optional[bool] = None,
                     width: Optional[int] = None) -> None:
    """Write a comparison (diff_documents) to `out` as text (see diff.render_diff_text)."""
    from . import diff as diff_module

    diff_module.render_diff_text(diff, out, color=color, width=width)


def render_diff_html(diff: dict[str, Any], out: TextIO) -> None:
    """Write a comparison (diff_documents) to `out` as one offline HTML page (see
    diff.render_diff_html)."""
    from . import diff as diff_module

    diff_module.render_diff_html(diff, out)


def write_json(doc: dict[str, Any], out: TextIO) -> None:
    """Write `doc` to `out` as compact JSON on one line, ending in a newline: json.dumps encodes
    it in C (an indented json.dump runs Python's encoder, four times slower), and a long run's
    document is 38% smaller without the indentation."""
    out.write(json.dumps(doc, separators=(",", ":")))
    out.write("\n")


def export(doc: dict[str, Any], form: str, *, collapsed_value: str = TIME.name) -> bytes:
    """The bytes of the file of `doc`'s call stacks in a standard format: "pprof" (gzip-compressed
    profile.proto), "speedscope" (JSON) or "collapsed" (text, one line per stack, carrying the
    value named `collapsed_value`; see collapsed.py)."""
    if form == "pprof":
        from . import pprof

        return pprof.encode(doc)
    out = io.StringIO()
    if form == "speedscope":
        from . import speedscope

        speedscope.write(doc, out)
    elif form == "collapsed":
        from . import collapsed

        collapsed.write(doc, out, collapsed_value)
    else:
        raise ValueError(f"no export format {form!r}: pprof, speedscope or collapsed")
    return out.getvalue().encode("utf-8")
