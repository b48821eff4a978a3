"""The comparison of two profiles (diff.diff_documents) as terminal text, in terminal.py's manner:
colored on a terminal, plain ASCII elsewhere (no ANSI escape, no box-drawing character, no
ellipsis); the numbers and line numbers keep their width and the source text gives way.

Sections, in order: header (the two programs, notes, warnings), run totals, one section per file
pair (changed lines then changed functions, largest change first, with a count of the hidden
ones), legend. Only diff.render_diff_text imports this module, so rich is imported only to
render text.
"""

from __future__ import annotations

import os
from typing import Any, Optional, TextIO

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .diff import (
    FIELD_HEADERS,
    FIELD_LEGENDS,
    LEAK_APPEARED,
    LEAK_GONE,
    MEMORY_FIELDS,
    STATUS_ADDED,
    STATUS_EDITED,
    STATUS_REMOVED,
    STATUS_SAME,
    changed_rows,
    format_change,
    format_relative,
    format_value,
    legend_fields,
    shown_path,
)
from .terminal import _console, print_sections, rich_table

_MORE_COLOR = "red"  # more time or memory after: worse
_LESS_COLOR = "green"
_WARNING_COLOR = "bold yellow"
_MARKERS = {STATUS_ADDED: "+ ", STATUS_REMOVED: "- "}
_UNCHANGED_MARKER = "  "
_LEAK_HEADER = "leak"


def render_diff_text(diff: dict[str, Any], out: TextIO, *, color: Optional[bool] = None,
                     width: Optional[int] = None) -> None:
    """Write the comparison `diff` (diff.diff_documents) to `out` as text.

    color: None colors only when `out` is a terminal and NO_COLOR is not set.
    width: columns to fit (None: $COLUMNS, else the terminal's width, else 80).
    """
    if color is None:
        color = out.isatty() and "NO_COLOR" not in os.environ
    console = _console(out, color, width)
    sections: list[RenderableType] = [_header(diff), _totals(diff, color)]
    sections += [_file_section(file, diff, color) for file in diff["files"]]
    sections.append(_legend(diff))
    print_sections(console, sections, out)


def _header(diff: dict[str, Any]) -> RenderableType:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    for side in ("before", "after"):
        run = diff[side]
        facts.add_row(side, f"{shown_path(run['program'])}  (Python {run['python_version']}, "
                            f"heatline {run['heatline_version']})")
    parts: list[RenderableType] = [Text.assemble(("heatline diff", "bold"), ": before -> after"), facts]
    for side in ("before", "after"):
        run = diff[side]
        if run["message"]:
            parts.append(Text(f"Note ({side}): {run['message']}", style=_WARNING_COLOR))
        for warning in run["warnings"]:
            parts.append(Text(f"Warning ({side}): {warning}", style=_WARNING_COLOR))
    memory = [side for side in ("before", "after") if _measured_memory(diff, side)]
    if len(memory) == 1:
        other = "after" if memory == ["before"] else "before"
        parts.append(Text(f"Memory was measured {memory[0]} only ({other} ran with --cpu-only):"
                          " memory is not compared.", style=_WARNING_COLOR))
    gpu = [side for side in ("before", "after") if diff[side]["gpu"]]
    if len(gpu) == 1:
        parts.append(Text(f"The GPU was measured {gpu[0]} only: the GPU is not compared.",
                          style=_WARNING_COLOR))
    return Group(*parts)


def _measured_memory(diff: dict[str, Any], side: str) -> bool:
    return any(row["field"] in MEMORY_FIELDS and row[side] is not None for row in diff["totals"])


def _totals(diff: dict[str, Any], color: bool) -> RenderableType:
    table = rich_table(color)
    table.add_column("Run totals", no_wrap=True)
    for header in ("before", "after", "change", ""):
        table.add_column(header, justify="right", no_wrap=True)
    for row in diff["totals"]:
        field = row["field"]
        table.add_row(FIELD_HEADERS[field], format_value(field, row["before"]),
                      format_value(field, row["after"]), _change_cell(field, row["change"], unit=True),
                      Text(format_relative(row["relative"], row["change"]), style=_direction_style(row["change"])))
    return table


def _file_section(file: dict[str, Any], diff: dict[str, Any], color: bool) -> RenderableType:
    parts: list[RenderableType] = [Text(_file_title(file), style="bold")]
    changed_lines = changed_rows(file["lines"])
    if changed_lines:
        parts.append(_line_table(changed_lines, diff, color))
    parts.append(Text(_hidden_note(file["lines"], "line", diff)))
    changed_functions = changed_rows(file["functions"])
    if changed_functions:
        parts += [Text(""), _function_table(changed_functions, diff, color)]
    if file["functions"]:
        parts.append(Text(_hidden_note(file["functions"], "function", diff)))
    return Group(*parts)


def _file_title(file: dict[str, Any]) -> str:
    before, after = file["before_path"], file["after_path"]
    if before is None:
        return f"{shown_path(after)}  (measured after only)"
    if after is None:
        return f"{shown_path(before)}  (measured before only)"
    if before == after:
        return shown_path(after)
    return f"{shown_path(before)} -> {shown_path(after)}"


def _hidden_note(rows: list[dict[str, Any]], noun: str, diff: dict[str, Any]) -> str:
    shown = sum(row["changed"] for row in rows)
    hidden = len(rows) - shown
    text = f"{shown} of {len(rows)} {noun}s changed"
    if hidden:
        text += (f"; {hidden} hidden: every change under {diff['change_min_percent']:g}% of the"
                 " run's total")
    return text + "."


def _columns(rows: list[dict[str, Any]], diff: dict[str, Any]) -> list[str]:
    """The fields with a change to show in these rows: a column of blanks only takes room."""
    return [field for field in diff["fields"] if any(row["change"][field] for row in rows)]


def _line_table(rows: list[dict[str, Any]], diff: dict[str, Any], color: bool) -> Table:
    fields = _columns(rows, diff)
    leaks = any(row["leak"] in (LEAK_APPEARED, LEAK_GONE) for row in rows)
    table = rich_table(color)
    table.add_column("Before", justify="right", no_wrap=True)
    table.add_column("After", justify="right", no_wrap=True)
    _add_change_columns(table, fields, leaks)
    # The only column that may shrink: the source text gives way to the numbers.
    table.add_column("Source")
    for row in rows:
        table.add_row(_number(row["before_line"]), _number(row["after_line"]),
                      *_change_cells(row, fields, leaks), _source_cell(row, color))
    return table


def _function_table(rows: list[dict[str, Any]], diff: dict[str, Any], color: bool) -> Table:
    fields = _columns(rows, diff)
    leaks = any(row["leak"] in (LEAK_APPEARED, LEAK_GONE) for row in rows)
    table = rich_table(color)
    table.add_column("Function")
    table.add_column("Before", justify="right", no_wrap=True)
    table.add_column("After", justify="right", no_wrap=True)
    _add_change_columns(table, fields, leaks)
    for row in rows:
        name = _marker(row["status"]) + row["name"]
        table.add_row(_cut(name, color), _number(row["before_line"]), _number(row["after_line"]),
                      *_change_cells(row, fields, leaks))
    return table


def _add_change_columns(table: Table, fields: list[str], leaks: bool) -> None:
    for field in fields:
        table.add_column(FIELD_HEADERS[field], justify="right", no_wrap=True)
    if leaks:
        table.add_column(_LEAK_HEADER, no_wrap=True)


def _change_cells(row: dict[str, Any], fields: list[str], leaks: bool) -> list[Text]:
    cells = [_change_cell(field, row["change"][field]) for field in fields]
    if leaks:
        leak = row["leak"] if row["leak"] in (LEAK_APPEARED, LEAK_GONE) else ""
        cells.append(Text(leak, style=_MORE_COLOR if leak == LEAK_APPEARED else _LESS_COLOR))
    return cells


def _source_cell(row: dict[str, Any], color: bool) -> Text:
    # Rows are in order of their change, not of the file: the indentation would only take room.
    if row["status"] == STATUS_EDITED:
        return _cut(f"- {row['before_source'].strip()}\n+ {row['after_source'].strip()}", color)
    source = row["after_source"] if row["after_source"] is not None else row["before_source"]
    return _cut(_marker(row["status"]) + source.strip(), color)


def _marker(status: str) -> str:
    return _MARKERS.get(status, _UNCHANGED_MARKER)


def _cut(text: str, color: bool) -> Text:
    """Text cut to its column; the ellipsis rich marks the cut with is not ASCII."""
    return Text(text, no_wrap=True, overflow="ellipsis" if color else "crop")


def _legend(diff: dict[str, Any]) -> RenderableType:
    columns = Table.grid(padding=(0, 2))
    columns.add_column(no_wrap=True)
    columns.add_column()
    for field in legend_fields(diff):
        columns.add_row(FIELD_HEADERS[field], FIELD_LEGENDS[field])
    shown = [row for file in diff["files"] for row in changed_rows(file["lines"]) + changed_rows(file["functions"])]
    if any(row["leak"] in (LEAK_APPEARED, LEAK_GONE) for row in shown):
        columns.add_row(_LEAK_HEADER, "a suspected leak appeared or is gone (both runs measured memory)")
    if any(row["status"] != STATUS_SAME for row in shown):
        columns.add_row("+ / -", "a line or function measured after only (added) or before only (removed,"
                                 " or nothing left to measure on it); a pair - / + is one line edited")
    notes = [
        Text("Line and function figures are changes, after - before: seconds and MB. Lines match"
             " by their source text, so both line numbers are shown."),
        Text(f"Rows are sorted by the size of their largest change, as a share of the larger run's"
             f" total of that figure; rows under {diff['change_min_percent']:g}% are hidden."
             " More (red on a terminal) is more time or memory after; less is green."),
    ]
    return Group(Text("Legend", style="bold"), columns, *notes)


def _number(line: Optional[int]) -> str:
    return "" if line is None else str(line)


def _change_cell(field: str, change: Optional[float], unit: bool = False) -> Text:
    """A signed change, red when more, green when less; in the totals (`unit`) also a zero, and
    n/a when one run did not measure the figure."""
    text = format_change(field, change, unit=unit)
    if unit and not text:
        text = "n/a" if change is None else "0"
    return Text(text, style=_direction_style(change))


def _direction_style(change: Optional[float]) -> str:
    if not change:
        return ""
    return _MORE_COLOR if change > 0 else _LESS_COLOR
