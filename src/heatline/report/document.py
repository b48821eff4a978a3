"""Reading the profile document: the derived numbers reports share, and the reduced view.

The document's definition is docs/profile-format.md. Nothing here measures or calls the engine.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

# The three kinds of time that make up 100%; GIL wait is reported beside them.
TIME_KINDS = ("python", "native", "system")

REDUCED_MIN_PERCENT = 1.0

# Float percentages can sum to a hair under an exact cut (0.7 + 0.2 + 0.1 == 0.9999999999999999).
_SUM_SLACK_PERCENT = 1e-9

# Memory a line or function can hold a share of, each against the whole run's figure in `totals`.
_MEMORY_SHARE_FIELDS = ("alloc_mb", "peak_mb", "copy_mb")


def total_percent(entry: dict[str, Any]) -> float:
    """Python + native + system percent of a line or function."""
    return sum(entry[f"{kind}_percent"] for kind in TIME_KINDS)


def total_seconds(doc: dict[str, Any]) -> float:
    """The denominator of every percentage in the document."""
    totals = doc["totals"]
    return sum(totals[f"{kind}_s"] for kind in TIME_KINDS)


def has_memory(doc: dict[str, Any]) -> bool:
    """Whether memory was measured (it is not under --cpu-only)."""
    return doc["memory_sampling_rate_bytes"] is not None


def lines_by_memory(doc: dict[str, Any], limit: int) -> list[tuple[str, dict[str, Any]]]:
    """The `limit` lines holding the most memory, as (path, line): by peak MB, then MB allocated.

    Lines that neither held nor allocated memory are left out.
    """
    holding = [
        (path, line)
        for path, line in _lines(doc)
        if line["peak_mb"] or line["alloc_mb"]
    ]
    holding.sort(key=lambda item: (-(item[1]["peak_mb"] or 0.0), -(item[1]["alloc_mb"] or 0.0),
                                   item[0], item[1]["line"]))
    return holding[:limit]


def leaking_lines(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Lines suspected of leaking, as (path, line): most likely first, then fastest growing."""
    leaks = [(path, line) for path, line in _lines(doc) if line["leak"] is not None]
    leaks.sort(key=lambda item: (-item[1]["leak"]["likelihood"], -item[1]["leak"]["mb_s"],
                                 item[0], item[1]["line"]))
    return leaks


def line_source(doc: dict[str, Any], path: Optional[str], number: Optional[int]) -> Optional[str]:
    """The source text of line `number` of `path`, if the document lists that line."""
    file = doc["files"].get(path) if path is not None else None
    for line in file["lines"] if file else []:
        if line["line"] == number:
            return line["source"]
    return None


def visible(doc: dict[str, Any], *, reduced: bool = False) -> dict[str, Any]:
    """What a report shows of `doc`: only the @profile-decorated functions' lines when some were
    decorated, and only the lines that matter when `reduced`. The document itself is lossless
    (every measured line); these views are applied here, once, for every report."""
    shown = filter_profiled(doc)
    return filter_reduced(shown) if reduced else shown


def filter_profiled(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of `doc` keeping only the lines and functions of the functions decorated with
    @profile (`profiled_functions`); `doc` itself when none was decorated."""
    decorated = doc.get("profiled_functions")
    if decorated is None:
        return doc
    files = {}
    for path, file in doc["files"].items():
        own = [f for f in decorated if f["file"] == path]
        lines = [line for line in file["lines"]
                 if any(f["first_line"] <= line["line"] <= f["last_line"] for f in own)]
        functions = [function for function in file["functions"]
                     if any(f["first_line"] == function["line"] for f in own)]
        if lines or functions:
            files[path] = {**file, "lines": lines, "functions": functions}
    return {**doc, "files": files}


def filter_reduced(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of `doc` keeping only the lines and functions that matter.

    One matters when it has at least 1% of the total time, of the memory allocated, of the peak
    footprint or of the data copied, or when it is suspected of leaking. Files left with neither
    lines nor functions are dropped. `doc` itself is not changed.
    """
    totals = doc["totals"]
    files = {}
    for path, file in doc["files"].items():
        lines = [line for line in file["lines"] if _is_significant(line, totals)]
        functions = [
            function for function in file["functions"] if _is_significant(function, totals)
        ]
        if lines or functions:
            files[path] = {**file, "lines": lines, "functions": functions}
    return {**doc, "files": files}


def _is_significant(entry: dict[str, Any], totals: dict[str, Any]) -> bool:
    if entry["leak"] is not None:
        return True
    shares = [total_percent(entry)]
    for field in _MEMORY_SHARE_FIELDS:
        part, whole = entry[field], totals[field]
        if part and whole:
            shares.append(part / whole * 100)
    return max(shares) + _SUM_SLACK_PERCENT >= REDUCED_MIN_PERCENT


def _lines(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, file in doc["files"].items():
        for line in file["lines"]:
            yield path, line
