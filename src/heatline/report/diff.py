"""Comparing two profile documents of the same program: what got faster, slower, bigger, smaller.

`diff_documents(before, after)` builds a plain-data model (JSON-serializable: dicts, lists,
numbers, strings) that both renderers read: `render_diff_text` (terminal text, rich imported only
then) and `render_diff_html` (one offline page). Reads only the two documents
(docs/profile-format.md), never the engine or the source files.

How the two runs are matched:

- **Files** match by path. The program's own file in `before` (`doc["program"]`) matches the
  program's file in `after`, whatever either is called (numpy_copy.py against
  numpy_copy_fixed.py); any other file matches by its path relative to its program's directory
  when it lies under it (so a copy of the project elsewhere still matches), else by its absolute
  path. A file in one document only is shown whole, its lines added or removed.
- **Lines**: a document lists only the lines that measured something, each with its source text.
  The two files' measured lines are aligned by their stripped source text, in line order
  (difflib.SequenceMatcher without its junk heuristic: a repeated line such as `total += x`
  pairs with the occurrence in the same place among its neighbours, not with the first one), so
  lines that moved because lines were inserted or deleted above them still match, and each row
  carries both line numbers. Lines left over between two matched stretches are paired as
  **edited** when their texts are similar (difflib's ratio of 0.75 or more, the cut-off ndiff
  uses; the most similar pair first, then the same within the stretches left on either side),
  so the one line a user changed is compared with what it was. The rest are **added** (measured
  in `after` only) or **removed** (measured in `before` only). A line can be "removed" because it
  was deleted or because it no longer measured anything; either way it lost all of its figures,
  and that is the change shown.
- **Functions** match by qualified name within matched files; a name that occurs several times
  in a file (two lambdas, two generator expressions) pairs its occurrences in order.

What is compared (the *fields*): Python, native and system seconds, GIL wait seconds, MB
allocated (as the reports show it: less the small blocks freed at once, `lasting_mb`), peak MB, MB copied, GPU utilization, and the mean and highest GPU memory. A field is a
column only when some line, function or total of either document has a nonzero value of it:
fields that were not measured in either document (memory under --cpu-only, the GPU without one)
are absent, not zero. A field measured in one document only has no change. The GPU's fields are
compared only when both documents measured the GPU (`gpu.available`), and absent otherwise.
Leaks are compared when both documents measured memory: a leak *appears* or is *gone*.

The size of a change is unit-free, so that rows sort on it: a change of a field is a percentage
of the larger of the two runs' totals of that field (the total time for every kind of time and
for GIL wait, the totals' lasting MB allocated, `totals.peak_mb`, `totals.copy_mb`, 100 for GPU
utilization, `totals.gpu_mem_peak_mb` for GPU memory), and a row's size is the largest over its fields. A row is **changed** when its size
is at least CHANGE_MIN_PERCENT or a leak appeared or went; the others are hidden by the
renderers, which say how many. The model keeps rows in file order; renderers sort changed rows by
size, largest first.

The run totals compare elapsed time, the total of the three kinds of time, each kind, GIL wait,
the peak footprint, MB allocated, MB copied, GPU utilization and the GPU memory peak (both only
when both runs measured the GPU), each before and after, with the
absolute and the relative change (relative to `before`; none when `before` is 0).

Only the lines of @profile-decorated functions are compared when either document restricts
itself to them (document.filter_profiled), as every report shows them.
"""

from __future__ import annotations

import difflib
import html
import os
from typing import Any, Optional, TextIO

from .document import TIME_KINDS, filter_profiled, has_gpu, has_memory, lasting_mb
from . import numbers

SCHEMA = "heatline-profile/1"

# A row whose every change is under this share of the run's total is hidden (but counted).
CHANGE_MIN_PERCENT = 1.0

# Two differing lines in one stretch are the same line edited from this similarity on: the
# cut-off difflib.ndiff uses to call two lines "similar" rather than unrelated.
EDITED_MIN_SIMILARITY = 0.75
# Pairing edited lines compares every line of a stretch with every other; a stretch bigger than
# this (a rewrite, not an edit) is left as removed and added lines.
EDITED_MAX_COMPARISONS = 2500

TIME_FIELDS = tuple(f"{kind}_s" for kind in TIME_KINDS)
MEMORY_FIELDS = ("alloc_mb", "peak_mb", "copy_mb")
GPU_FIELDS = ("gpu_percent", "gpu_mem_avg_mb", "gpu_mem_peak_mb")
# Every field a line or function row compares, in column order.
FIELDS = (*TIME_FIELDS, "gil_wait_s", *MEMORY_FIELDS, *GPU_FIELDS)
# The run totals compared, in order; "time_s" is the sum of the three kinds.
TOTAL_FIELDS = ("elapsed_s", "time_s", *TIME_FIELDS, "gil_wait_s", "peak_mb", "alloc_mb", "copy_mb",
                "gpu_percent", "gpu_mem_peak_mb")

FIELD_HEADERS = {
    "elapsed_s": "elapsed", "time_s": "time", "python_s": "Python", "native_s": "native",
    "system_s": "system", "gil_wait_s": "GIL wait", "alloc_mb": "alloc MB", "peak_mb": "peak MB",
    "copy_mb": "copy MB", "gpu_percent": "GPU %", "gpu_mem_avg_mb": "GPU avg MB",
    "gpu_mem_peak_mb": "GPU peak MB",
}
FIELD_LEGENDS = {
    "elapsed_s": "wall-clock seconds the run was profiled",
    "time_s": "Python + native + system seconds, all threads",
    "python_s": "seconds running Python bytecode (and library Python code called)",
    "native_s": "seconds in C code called from Python (NumPy, zlib, any extension)",
    "system_s": "seconds in the kernel or blocked off the CPU (I/O, sleep, locks)",
    "gil_wait_s": "seconds ready to run Python while another thread held the GIL",
    "alloc_mb": "MB allocated over the run (estimated from samples), less small blocks freed at once",
    "peak_mb": "most MB live at one time (estimated from samples)",
    "copy_mb": "MB copied (memcpy and the like) over the run",
    "gpu_percent": "GPU utilization, percent",
    "gpu_mem_avg_mb": "mean GPU memory of the program while the line ran, MB",
    "gpu_mem_peak_mb": "highest GPU memory of the program (while the line ran, for a line), MB",
}

STATUS_SAME = "same"
STATUS_EDITED = "edited"
STATUS_ADDED = "added"
STATUS_REMOVED = "removed"
LEAK_APPEARED = "appeared"
LEAK_GONE = "gone"
LEAK_KEPT = "kept"


def diff_documents(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The comparison of two profile documents, as plain data (see the module docstring).

    Raises ValueError, naming which document, for one that is not a heatline-profile/1 document.

    {"before": RUN, "after": RUN, "fields": [FIELD...], "change_min_percent": float,
     "totals": [{"field", "before", "after", "change", "relative"}...],
     "files": [{"before_path", "after_path", "size_percent", "lines": [ROW...],
                "functions": [ROW...]}...]}            files: largest change first
    RUN: {"program", "elapsed_s", "python_version", "heatline_version", "message", "warnings",
          "gpu" (whether the run measured the GPU)}
    ROW: {"status": same|edited|added|removed, "before_line", "after_line", "before_source",
          "after_source" (lines) or "name" (functions), "before": {FIELD: value}, "after": ...,
          "change": {FIELD: after - before or None}, "relative": {FIELD: change / before or None},
          "leak": appeared|gone|kept|None, "size_percent": float, "changed": bool}
    A side where the row was not measured holds 0 for a field that document measured, None for
    one it did not; `change` is None where either side is None.
    """
    for name, doc in (("before", before), ("after", after)):
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            found = doc.get("schema") if isinstance(doc, dict) else None
            raise ValueError(f"{name}: not a {SCHEMA} document (schema {found!r})")
    before, after = filter_profiled(before), filter_profiled(after)
    context = _Context(before, after)
    files = [_file_diff(before_path, after_path, context)
             for before_path, after_path in _match_files(before, after)]
    files.sort(key=lambda file: (-file["size_percent"], file["after_path"] or file["before_path"]))
    return {
        "before": _run(before),
        "after": _run(after),
        "fields": [field for field in FIELDS if _compared(before, after, field)
                   and (_has_nonzero(before, field) or _has_nonzero(after, field))],
        "change_min_percent": CHANGE_MIN_PERCENT,
        "totals": _totals(before, after),
        "files": files,
    }


class _Context:
    """What every row of one comparison needs: the two documents, which fields each measured,
    and the scale a change of each field is a percentage of."""

    def __init__(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.before = before
        self.after = after
        self.before_measured = {field for field in FIELDS
                                if _measures(before, field) and _compared(before, after, field)}
        self.after_measured = {field for field in FIELDS
                               if _measures(after, field) and _compared(before, after, field)}
        self.leaks_compared = has_memory(before) and has_memory(after)
        self.scales = {field: max(_scale(before, field), _scale(after, field)) for field in FIELDS}


def _run(doc: dict[str, Any]) -> dict[str, Any]:
    run = {key: doc.get(key) for key in ("program", "elapsed_s", "python_version", "heatline_version", "message")}
    run["warnings"] = list(doc.get("warnings") or [])
    run["gpu"] = has_gpu(doc)
    return run


def _measures(doc: dict[str, Any], field: str) -> bool:
    """Whether `doc` measured `field`: memory and the GPU by the document's own flags."""
    if field in MEMORY_FIELDS:
        return has_memory(doc)
    if field in GPU_FIELDS:
        return has_gpu(doc)
    return True


def _compared(before: dict[str, Any], after: dict[str, Any], field: str) -> bool:
    """Whether `field` is compared at all: the GPU's only when both runs measured it (a run on a
    machine without one is not a GPU that fell idle)."""
    return field not in GPU_FIELDS or (has_gpu(before) and has_gpu(after))


def _value(entry: dict[str, Any], field: str) -> Optional[float]:
    """`field` of a line, function or the totals; alloc MB as the reports show it (lasting_mb)."""
    return lasting_mb(entry) if field == "alloc_mb" else entry.get(field)


def _has_nonzero(doc: dict[str, Any], field: str) -> bool:
    if _value(doc["totals"], field):
        return True
    return any(_value(entry, field) for file in doc["files"].values()
               for entry in file["lines"] + file["functions"])


def _time_s(counters: dict[str, Any]) -> float:
    return sum(counters[field] for field in TIME_FIELDS)


def _scale(doc: dict[str, Any], field: str) -> float:
    """The run total a change of `field` is a share of (0 when there is none)."""
    if field in TIME_FIELDS or field == "gil_wait_s":
        return _time_s(doc["totals"])
    if field == "gpu_percent":
        return 100.0
    if field in GPU_FIELDS:
        return doc["totals"].get("gpu_mem_peak_mb") or 0.0
    return _value(doc["totals"], field) or 0.0


def _total(doc: dict[str, Any], field: str) -> Optional[float]:
    if field == "elapsed_s":
        return doc["elapsed_s"]
    if field == "time_s":
        return _time_s(doc["totals"])
    return _value(doc["totals"], field)


def _totals(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for field in TOTAL_FIELDS:
        old, new = _total(before, field), _total(after, field)
        if (old is None and new is None) or not _compared(before, after, field):
            continue
        change = _change(old, new)
        rows.append({"field": field, "before": old, "after": new, "change": change,
                     "relative": _relative(old, change)})
    return rows


def _change(old: Optional[float], new: Optional[float]) -> Optional[float]:
    return None if old is None or new is None else new - old


def _relative(old: Optional[float], change: Optional[float]) -> Optional[float]:
    return None if change is None or not old else change / old


# ---- files ------------------------------------------------------------------------------------

def _match_files(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[Optional[str], Optional[str]]]:
    """(before path, after path) pairs; None on the side where the file is not listed."""
    after_by_key = {_file_key(after, path): path for path in after["files"]}
    pairs: list[tuple[Optional[str], Optional[str]]] = []
    matched = set()
    for path in before["files"]:
        partner = after_by_key.get(_file_key(before, path))
        pairs.append((path, partner))
        matched.add(partner)
    pairs += [(None, path) for path in after["files"] if path not in matched]
    return pairs


def _file_key(doc: dict[str, Any], path: str) -> tuple[str, str]:
    program = doc["program"]
    if path == program:
        return ("program", "")
    if os.path.isabs(program):
        directory = os.path.dirname(program)
        if path.startswith(directory.rstrip(os.sep) + os.sep):
            return ("relative", os.path.relpath(path, directory))
    return ("absolute", path)


def _file_diff(before_path: Optional[str], after_path: Optional[str], context: _Context) -> dict[str, Any]:
    old = context.before["files"][before_path] if before_path else {"lines": [], "functions": []}
    new = context.after["files"][after_path] if after_path else {"lines": [], "functions": []}
    lines = [_line_row(pair, context) for pair in _align_lines(old["lines"], new["lines"])]
    functions = [_function_row(pair, context) for pair in _match_functions(old["functions"], new["functions"])]
    return {
        "before_path": before_path,
        "after_path": after_path,
        "size_percent": max((row["size_percent"] for row in lines + functions), default=0.0),
        "lines": lines,
        "functions": functions,
    }


# ---- lines ------------------------------------------------------------------------------------

_Pair = tuple[Optional[dict[str, Any]], Optional[dict[str, Any]], str]


def _align_lines(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[_Pair]:
    """The measured lines of both versions of a file in order, paired (see the module docstring)."""
    matcher = difflib.SequenceMatcher(None, [line["source"].strip() for line in old],
                                      [line["source"].strip() for line in new], autojunk=False)
    pairs: list[_Pair] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            pairs += [(old[old_start + offset], new[new_start + offset], STATUS_SAME)
                      for offset in range(old_end - old_start)]
        else:
            pairs += _pair_edited(old[old_start:old_end], new[new_start:new_end])
    return pairs


def _pair_edited(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[_Pair]:
    """Lines of a stretch where the versions differ: the most similar pair is one line edited,
    then the same on each side of it; the rest removed, then added."""
    best: Optional[tuple[float, int, int]] = None
    if len(old) * len(new) <= EDITED_MAX_COMPARISONS:
        for old_index, old_line in enumerate(old):
            matcher = difflib.SequenceMatcher(None, autojunk=False)
            matcher.set_seq2(old_line["source"].strip())
            for new_index, new_line in enumerate(new):
                matcher.set_seq1(new_line["source"].strip())
                floor = best[0] if best else EDITED_MIN_SIMILARITY
                # The quick ratios are upper bounds of ratio(): most pairs stop at them.
                if matcher.real_quick_ratio() >= floor and matcher.quick_ratio() >= floor:
                    ratio = matcher.ratio()
                    if ratio >= floor and (best is None or ratio > best[0]):
                        best = (ratio, old_index, new_index)
    if best is None:
        return [(line, None, STATUS_REMOVED) for line in old] + [(None, line, STATUS_ADDED) for line in new]
    _, old_index, new_index = best
    return (_pair_edited(old[:old_index], new[:new_index])
            + [(old[old_index], new[new_index], STATUS_EDITED)]
            + _pair_edited(old[old_index + 1:], new[new_index + 1:]))


def _line_row(pair: _Pair, context: _Context) -> dict[str, Any]:
    old, new, status = pair
    return {
        "status": status,
        "before_line": old["line"] if old else None,
        "after_line": new["line"] if new else None,
        "before_source": old["source"] if old else None,
        "after_source": new["source"] if new else None,
        **_compare(old, new, context),
    }


# ---- functions --------------------------------------------------------------------------------

def _match_functions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[_Pair]:
    """Functions paired by qualified name, the k-th of a name with the k-th; ordered by first
    line (after's; before's for a removed one)."""
    waiting: dict[str, list[dict[str, Any]]] = {}
    for function in new:
        waiting.setdefault(function["name"], []).append(function)
    pairs: list[_Pair] = []
    for function in old:
        partners = waiting.get(function["name"])
        if partners:
            pairs.append((function, partners.pop(0), STATUS_SAME))
        else:
            pairs.append((function, None, STATUS_REMOVED))
    pairs += [(None, function, STATUS_ADDED) for partners in waiting.values() for function in partners]
    pairs.sort(key=lambda pair: (pair[1] or pair[0])["line"])
    return pairs


def _function_row(pair: _Pair, context: _Context) -> dict[str, Any]:
    old, new, status = pair
    return {
        "status": status,
        "name": (new or old)["name"],
        "before_line": old["line"] if old else None,
        "after_line": new["line"] if new else None,
        **_compare(old, new, context),
    }


# ---- one row's figures ------------------------------------------------------------------------

def _compare(old: Optional[dict[str, Any]], new: Optional[dict[str, Any]], context: _Context) -> dict[str, Any]:
    """The figures of a line or function on each side, their changes, and the row's size."""
    before = _side(old, context.before_measured)
    after = _side(new, context.after_measured)
    change = {field: _change(before[field], after[field]) for field in FIELDS}
    relative = {field: _relative(before[field], change[field]) for field in FIELDS}
    leak = _leak_change(old, new) if context.leaks_compared else None
    size = max((abs(value) / context.scales[field] * 100
                for field, value in change.items() if value and context.scales[field] > 0), default=0.0)
    return {
        "before": before,
        "after": after,
        "change": change,
        "relative": relative,
        "leak": leak,
        "size_percent": size,
        "changed": size >= CHANGE_MIN_PERCENT or leak in (LEAK_APPEARED, LEAK_GONE),
    }


def _side(entry: Optional[dict[str, Any]], measured: set[str]) -> dict[str, Optional[float]]:
    if entry is None:
        return {field: 0.0 if field in measured else None for field in FIELDS}
    return {field: _value(entry, field) if field in measured else None for field in FIELDS}


def _leak_change(old: Optional[dict[str, Any]], new: Optional[dict[str, Any]]) -> Optional[str]:
    leaked_before = bool(old and old.get("leak"))
    leaks_after = bool(new and new.get("leak"))
    if leaked_before and leaks_after:
        return LEAK_KEPT
    if leaks_after:
        return LEAK_APPEARED
    return LEAK_GONE if leaked_before else None


# ---- numbers, as both renderers write them ----------------------------------------------------

def format_value(field: str, value: Optional[float]) -> str:
    """A figure of either run: seconds with their unit, MB to a tenth, GPU in percent."""
    if value is None:
        return "n/a"
    if field.endswith("_s"):
        return numbers.seconds(value)
    if field == "gpu_percent":
        return f"{value:.0f}%"
    return f"{value:.1f}"


def format_change(field: str, change: Optional[float], *, unit: bool) -> str:
    """A signed change: seconds with their unit when `unit`, else bare (three decimals under a
    tenth of a second); "" when there is none to show."""
    if not change:
        return ""
    sign = "+" if change > 0 else "-"
    size = abs(change)
    if field.endswith("_s"):
        return sign + (numbers.seconds(size) if unit else f"{size:.2f}" if size >= 0.1 else f"{size:.3f}")
    if field == "gpu_percent":
        return f"{sign}{size:.0f}"
    return f"{sign}{size:.1f}"


def format_relative(relative: Optional[float], change: Optional[float]) -> str:
    """The change relative to `before`: a signed percentage (a tenth of a percent under 10%, so
    that a small change does not read "-0%"), "new" from nothing, "" without one."""
    if not change:
        return ""
    if relative is None:
        return "new"
    percent = relative * 100
    return f"{percent:+.1f}%" if abs(percent) < 10 else f"{percent:+.0f}%"


def changed_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changed rows, largest change first (then in file order)."""
    changed = [row for row in rows if row["changed"]]
    changed.sort(key=lambda row: (-row["size_percent"], row["after_line"] or row["before_line"]))
    return changed


def shown_path(path: str) -> str:
    """The path relative to the current directory when the file lies under it, else as given."""
    try:
        cwd = os.getcwd()
    except OSError:  # the directory may have been removed
        return path
    if os.path.isabs(path) and path.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(path, cwd)
    return path


# ---- text -------------------------------------------------------------------------------------

def render_diff_text(diff: dict[str, Any], out: TextIO, *, color: Optional[bool] = None,
                     width: Optional[int] = None) -> None:
    """Write the comparison `diff` to `out` as text (diff_text.py): colored when `color` (None:
    when `out` is a terminal and NO_COLOR is not set), fitting `width` columns (None: $COLUMNS,
    else the terminal's width, else 80). rich is imported only here."""
    from . import diff_text

    diff_text.render_diff_text(diff, out, color=color, width=width)


# ---- HTML -------------------------------------------------------------------------------------

_CSS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", "diff.css")
_STATUS_WORDS = {STATUS_EDITED: "edited", STATUS_ADDED: "added", STATUS_REMOVED: "removed"}


def render_diff_html(diff: dict[str, Any], out: TextIO) -> None:
    """Write the comparison `diff` to `out` as one HTML page that needs nothing else: its style
    inline, no script, no request of any kind; light or dark as the browser prefers."""
    before, after = diff["before"]["program"], diff["after"]["program"]
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<title>heatline diff: {_escape(os.path.basename(before))} &rarr; "
        f"{_escape(os.path.basename(after))}</title>\n",
        f"<style>\n{_stylesheet()}</style>\n</head>\n<body>\n",
        _html_header(diff),
        _html_totals(diff),
        *(_html_file(file, diff) for file in diff["files"]),
        _html_legend(diff),
        "</body>\n</html>\n",
    ]
    out.write("".join(parts))


def _stylesheet() -> str:
    with open(_CSS_PATH, encoding="utf-8") as file:
        return file.read()


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _html_header(diff: dict[str, Any]) -> str:
    rows = []
    for side in ("before", "after"):
        run = diff[side]
        rows.append(f"<tr><th>{side}</th><td class=\"path\">{_escape(shown_path(run['program']))}</td>"
                    f"<td class=\"note\">Python {_escape(str(run['python_version']))}, heatline "
                    f"{_escape(str(run['heatline_version']))}</td></tr>\n")
    notes = []
    for side in ("before", "after"):
        run = diff[side]
        if run["message"]:
            notes.append(f"<p class=\"warning\">Note ({side}): {_escape(run['message'])}</p>\n")
        notes += [f"<p class=\"warning\">Warning ({side}): {_escape(warning)}</p>\n"
                  for warning in run["warnings"]]
    return ("<header>\n<h1>heatline diff</h1>\n<table class=\"runs\">\n" + "".join(rows) + "</table>\n"
            + "".join(notes) + "</header>\n")


def _direction(change: Optional[float]) -> str:
    """The CSS class of a change: more time or memory after is worse."""
    if not change:
        return ""
    return "more" if change > 0 else "less"


def _html_totals(diff: dict[str, Any]) -> str:
    rows = []
    for row in diff["totals"]:
        field = row["field"]
        direction = _direction(row["change"])
        change = format_change(field, row["change"], unit=True) or ("0" if row["change"] == 0 else "n/a")
        rows.append(
            f"<tr><th scope=\"row\" title=\"{_escape(FIELD_LEGENDS[field])}\">{FIELD_HEADERS[field]}</th>"
            f"<td>{format_value(field, row['before'])}</td><td>{format_value(field, row['after'])}</td>"
            f"<td class=\"{direction}\"><span class=\"delta\">{change}</span></td>"
            f"<td class=\"{direction}\">{format_relative(row['relative'], row['change'])}</td></tr>\n")
    return ("<section>\n<h2>Run totals</h2>\n<table class=\"totals\">\n<thead><tr><th></th><th>before</th>"
            "<th>after</th><th>change</th><th>relative</th></tr></thead>\n<tbody>\n" + "".join(rows)
            + "</tbody>\n</table>\n</section>\n")


def _html_file(file: dict[str, Any], diff: dict[str, Any]) -> str:
    before, after = file["before_path"], file["after_path"]
    if before is None:
        title = f"{_escape(shown_path(after))} <span class=\"note\">measured after only</span>"
    elif after is None:
        title = f"{_escape(shown_path(before))} <span class=\"note\">measured before only</span>"
    elif before == after:
        title = _escape(shown_path(after))
    else:
        title = f"{_escape(shown_path(before))} &rarr; {_escape(shown_path(after))}"
    parts = [f"<section class=\"file\">\n<h2>{title}</h2>\n"]
    parts.append(_html_rows(file["lines"], "line", diff))
    if file["functions"]:
        parts.append(_html_rows(file["functions"], "function", diff))
    parts.append("</section>\n")
    return "".join(parts)


def _html_rows(rows: list[dict[str, Any]], noun: str, diff: dict[str, Any]) -> str:
    """The changed rows of one kind in a table, largest change first; the others folded away
    beneath, in file order."""
    changed = changed_rows(rows)
    unchanged = [row for row in rows if not row["changed"]]
    leaks = any(row["leak"] in (LEAK_APPEARED, LEAK_GONE) for row in rows)
    heading = f"{len(changed)} of {len(rows)} {noun}s changed"
    parts = [f"<h3>{heading}</h3>\n"]
    if changed:
        parts.append(_html_table(changed, noun, diff, leaks))
    if unchanged:
        parts.append(f"<details><summary>{len(unchanged)} {noun}{'s' if len(unchanged) > 1 else ''} with every"
                     f" change under {diff['change_min_percent']:g}% of the run's total</summary>\n"
                     + _html_table(unchanged, noun, diff, leaks) + "</details>\n")
    return "".join(parts)


def _html_table(rows: list[dict[str, Any]], noun: str, diff: dict[str, Any], leaks: bool) -> str:
    fields = diff["fields"]
    head = ["<th class=\"text\">function</th>"] if noun == "function" else []
    head += ["<th>before</th>", "<th>after</th>", "<th></th>"]
    head += [f"<th title=\"{_escape(FIELD_LEGENDS[field])}\">{FIELD_HEADERS[field]}</th>" for field in fields]
    head += ["<th>leak</th>"] if leaks else []
    head += ["<th class=\"text\">source</th>"] if noun == "line" else []
    body = []
    for row in rows:
        cells = [f"<td class=\"name\">{_escape(row['name'])}</td>"] if noun == "function" else []
        cells += [f"<td class=\"num\">{_number(row['before_line'])}</td>",
                  f"<td class=\"num\">{_number(row['after_line'])}</td>", _html_status(row)]
        cells += [_html_change(row, field) for field in fields]
        if leaks:
            leak = row["leak"] if row["leak"] in (LEAK_APPEARED, LEAK_GONE) else ""
            direction = {LEAK_APPEARED: "more", LEAK_GONE: "less"}.get(leak, "")
            cells.append(f"<td class=\"{direction}\">{leak}</td>")
        if noun == "line":
            cells.append(_html_source(row))
        body.append(f"<tr>{''.join(cells)}</tr>\n")
    return (f"<div class=\"scroll\"><table class=\"rows {noun}s\">\n<thead><tr>{''.join(head)}</tr></thead>\n"
            "<tbody>\n" + "".join(body) + "</tbody>\n</table></div>\n")


def _number(line: Optional[int]) -> str:
    return "" if line is None else str(line)


def _html_change(row: dict[str, Any], field: str) -> str:
    """The change in bold and its share of `before`; under it, before &rarr; after."""
    old, new, change = row["before"][field], row["after"][field], row["change"][field]
    if (old is None or old == 0) and (new is None or new == 0):
        return "<td></td>"
    direction = _direction(change)
    delta = format_change(field, change, unit=True)
    relative = format_relative(row["relative"][field], change)
    top = f"<span class=\"delta\">{delta} <small>{relative}</small></span>" if delta else ""
    values = f"<span class=\"values\">{format_value(field, old)} &rarr; {format_value(field, new)}</span>"
    return f"<td class=\"{direction}\">{top}{values}</td>"


def _html_status(row: dict[str, Any]) -> str:
    word = _STATUS_WORDS.get(row["status"])
    return f"<td><span class=\"status {row['status']}\">{word}</span></td>" if word else "<td></td>"


def _html_source(row: dict[str, Any]) -> str:
    """The line's text; an edited line's old text above its new one."""
    if row["status"] == STATUS_EDITED:
        texts = [("old", row["before_source"]), ("new", row["after_source"])]
    else:
        source = row["after_source"] if row["after_source"] is not None else row["before_source"]
        texts = [("", source)]
    # Rows are in order of their change, not of the file: the indentation would say nothing.
    code = "".join(f"<code class=\"{kind}\" title=\"{_escape(text.strip())}\">{_escape(text.strip())}</code>"
                   for kind, text in texts)
    return f"<td class=\"src\">{code}</td>"


def legend_fields(diff: dict[str, Any]) -> list[str]:
    """The fields a legend explains: the run totals', then the columns' that have no total."""
    totals = [row["field"] for row in diff["totals"]]
    return totals + [field for field in diff["fields"] if field not in totals]


def _html_legend(diff: dict[str, Any]) -> str:
    terms = [(FIELD_HEADERS[field], FIELD_LEGENDS[field]) for field in legend_fields(diff)]
    rows = [row for file in diff["files"] for row in file["lines"] + file["functions"]]
    if any(row["leak"] in (LEAK_APPEARED, LEAK_GONE) for row in rows):
        terms.append(("leak", "a suspected leak appeared or is gone (both runs measured memory)"))
    if any(row["status"] in (STATUS_ADDED, STATUS_REMOVED) for row in rows):
        terms.append(("added / removed", "measured in the after run only / in the before run only (deleted,"
                                         " or nothing left to measure on it)"))
    if any(row["status"] == STATUS_EDITED for row in rows):
        terms.append(("edited", "the same line with its text changed: before above, after below"))
    items = "".join(f"<dt>{_escape(term)}</dt><dd>{_escape(text)}</dd>\n" for term, text in terms)
    return (
        "<footer>\n<h2>Legend</h2>\n<dl>\n" + items + "</dl>\n"
        "<p>Each cell shows the change, after &minus; before, with its share of the before figure, and"
        " under it the figures of both runs. <span class=\"more\">&#9650; More</span> time or memory"
        " after; <span class=\"less\">&#9660; less</span>. Lines match by their source text, so both"
        " line numbers are shown. Rows are sorted by the size of their largest change, as a share of"
        f" the larger run's total of that figure; rows under {diff['change_min_percent']:g}% are folded"
        " away. Memory figures are estimates from samples; 1 MB is 2<sup>20</sup> bytes.</p>\n</footer>\n")
