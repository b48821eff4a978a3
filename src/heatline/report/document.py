"""Reading the profile document: the derived numbers reports share, and the reduced view.

The document's definition is docs/profile-format.md. Nothing here measures or calls the engine.
"""

from __future__ import annotations

from typing import Any

# The three kinds of time that make up 100%; GIL wait is reported beside them.
TIME_KINDS = ("python", "native", "system")

REDUCED_MIN_PERCENT = 1.0

# Float percentages can sum to a hair under an exact cut (0.7 + 0.2 + 0.1 == 0.9999999999999999).
_SUM_SLACK_PERCENT = 1e-9


def total_percent(entry: dict[str, Any]) -> float:
    """Python + native + system percent of a line or function."""
    return sum(entry[f"{kind}_percent"] for kind in TIME_KINDS)


def total_seconds(doc: dict[str, Any]) -> float:
    """The denominator of every percentage in the document."""
    totals = doc["totals"]
    return sum(totals[f"{kind}_s"] for kind in TIME_KINDS)


def filter_reduced(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of `doc` keeping only lines and functions with at least 1% of the total time.

    Files left with neither lines nor functions are dropped. `doc` itself is not changed.
    """
    files = {}
    for path, file in doc["files"].items():
        lines = [line for line in file["lines"] if _is_significant(line)]
        functions = [function for function in file["functions"] if _is_significant(function)]
        if lines or functions:
            files[path] = {**file, "lines": lines, "functions": functions}
    return {**doc, "files": files}


def _is_significant(entry: dict[str, Any]) -> bool:
    return total_percent(entry) + _SUM_SLACK_PERCENT >= REDUCED_MIN_PERCENT
