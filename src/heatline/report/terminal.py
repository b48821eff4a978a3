"""Terminal report: the profile document as text tables, colored on a terminal, plain elsewhere.

Plain output carries no ANSI escape and no box-drawing character, so it can be piped and diffed.
Reads only the profile document (docs/profile-format.md), never the engine. Sections, in order:
header, scope notes, one section per file (line table, then function table), legend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from .document import REDUCED_MIN_PERCENT, TIME_KINDS, filter_reduced, total_percent, total_seconds

_KIND_HEADERS = {"python": "Python", "native": "native", "system": "system"}
_KIND_COLORS = {"python": "cyan", "native": "magenta", "system": "green"}
_KIND_LEGENDS = {
    "python": "time running Python bytecode on the line (and library Python code it called)",
    "native": "time in C code called from the line (NumPy, zlib, any extension module)",
    "system": "kernel time, and time blocked off the CPU (I/O, sleep, waiting on a lock)",
}
_GIL_HEADER = "GIL wait"
_GIL_COLOR = "red"
_GIL_LEGEND = "time ready to run Python while another thread held the GIL"
_REDUCED_NOTE = f"Reduced profile: only lines and functions with {REDUCED_MIN_PERCENT:g}% or more."

_COLOR_BAR_CHARACTER = "\u2588"
_PLAIN_BAR_CHARACTERS = {"python": "#", "native": "=", "system": "~"}
_WIDE_CONSOLE_COLUMNS = 120
_WIDE_BAR_WIDTH = 20
_NARROW_BAR_WIDTH = 10

# rich's SIMPLE_HEAD drawn with '-', so that plain tables stay ASCII.
_PLAIN_BOX = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


@dataclass(frozen=True)
class _OptionalColumn:
    """A measurement that gets a column only where the document has a value for it."""

    field: str
    header: str
    legend: str
    format: Callable[[float], str]


_ONE_DECIMAL = "{:.1f}".format
_OPTIONAL_COLUMNS = (
    _OptionalColumn("alloc_mb", "alloc MB", "memory allocated by the line, in MB", _ONE_DECIMAL),
    _OptionalColumn("peak_mb", "peak MB", "peak memory held for the line, in MB", _ONE_DECIMAL),
    _OptionalColumn("copy_mb_s", "copy MB/s", "data copied by the line per second", _ONE_DECIMAL),
    _OptionalColumn("gpu_percent", "GPU", "GPU utilization while the line ran", "{:.0f}%".format),
)


@dataclass(frozen=True)
class _View:
    """What every table of one report shares: same columns everywhere, same bar scale."""

    color: bool
    show_gil: bool
    optional_columns: tuple[_OptionalColumn, ...]
    bar_width: int


def render_text(
    doc: dict[str, Any],
    out: TextIO,
    *,
    color: Optional[bool] = None,
    reduced: bool = False,
    width: Optional[int] = None,
) -> None:
    """Write the terminal report of profile document `doc` to `out`.

    color: None colors only when `out` is a terminal and NO_COLOR is not set.
    reduced: show only lines and functions with at least 1% of the total time.
    width: columns to fit (None: $COLUMNS, else the terminal's width, else 80).
    """
    if color is None:
        color = out.isatty() and "NO_COLOR" not in os.environ
    shown = filter_reduced(doc) if reduced else doc
    console = _console(out, color, width)
    view = _view(shown, color, console.width)
    sections = [_header(shown)]
    notes = _scope_notes(shown, reduced)
    if notes:
        sections.append(Group(*notes))
    sections += _file_sections(shown, view)
    if shown["files"]:
        sections.append(_legend(shown, view))
    with console.capture() as capture:
        for number, section in enumerate(sections):
            if number:
                console.line()
            console.print(section)
    # Tables pad every cell; trailing blanks only make diffs of plain reports noisy.
    out.write("".join(line.rstrip() + "\n" for line in capture.get().rstrip("\n").split("\n")))


def _console(out: TextIO, color: bool, width: Optional[int]) -> Console:
    return Console(
        file=out,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=False,  # the caller already decided; an explicit color=True beats NO_COLOR
        markup=False,
        emoji=False,
        highlight=False,
        legacy_windows=False,
    )


def _view(doc: dict[str, Any], color: bool, console_width: int) -> _View:
    entries = list(_entries(doc))
    return _View(
        color=color,
        show_gil=any(entry["gil_wait_s"] > 0 for entry in entries),
        optional_columns=tuple(
            column
            for column in _OPTIONAL_COLUMNS
            if any(entry.get(column.field) is not None for entry in entries)
        ),
        bar_width=_WIDE_BAR_WIDTH if console_width >= _WIDE_CONSOLE_COLUMNS else _NARROW_BAR_WIDTH,
    )


def _entries(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for file in doc["files"].values():
        yield from file["lines"]
        yield from file["functions"]


def _header(doc: dict[str, Any]) -> RenderableType:
    title = Text.assemble(("heatline", "bold"), " profile of ", doc["program"])
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("elapsed", _seconds(doc["elapsed_s"]))
    facts.add_row("time", _time_split(doc["totals"]))
    outside_s = doc["totals"]["outside_program_s"]
    if outside_s > 0:
        facts.add_row("elsewhere", f"{_seconds(outside_s)} of it on no line of the program")
    facts.add_row("samples", _sampling(doc))
    parts: list[RenderableType] = [title]
    if doc["message"]:
        parts.append(Text(f"Note: {doc['message']}", style="bold yellow"))
    parts.append(facts)
    return Group(*parts)


def _time_split(totals: dict[str, Any]) -> Text:
    split = Text()
    for kind in TIME_KINDS:
        split.append(_KIND_HEADERS[kind], style=_KIND_COLORS[kind])
        split.append(f" {_seconds(totals[f'{kind}_s'])}, ")
    split.append(_GIL_HEADER, style=_GIL_COLOR)
    split.append(f" {_seconds(totals['gil_wait_s'])}")
    return split


def _sampling(doc: dict[str, Any]) -> str:
    samples = doc["samples"]
    interval = _seconds(doc["cpu_sampling_interval_s"])
    text = f"{samples['cpu']} CPU samples, about one per {interval} of each thread's CPU time"
    if samples["dropped"]:
        text += f"; {samples['dropped']} dropped"
    return text


def _scope_notes(doc: dict[str, Any], reduced: bool) -> list[Text]:
    notes = []
    decorated = doc["profiled_functions"]
    if decorated is not None:
        names = ", ".join(function["name"] for function in decorated)
        notes.append(Text(f"Only functions decorated with @profile are shown: {names}."))
    if reduced:
        notes.append(Text(_REDUCED_NOTE))
    return notes


def _file_sections(doc: dict[str, Any], view: _View) -> list[RenderableType]:
    if not doc["files"]:
        # A document with a message (no sample taken) has already said why it is empty.
        return [] if doc["message"] else [Text("No line of the profiled code to show.")]
    by_share = sorted(doc["files"].items(), key=lambda item: (-item[1]["percent"], item[0]))
    return [_file_section(path, file, view) for path, file in by_share]


def _file_section(path: str, file: dict[str, Any], view: _View) -> RenderableType:
    seconds = _seconds(sum(file[f"{kind}_s"] for kind in TIME_KINDS))
    parts: list[RenderableType] = [
        Text.assemble((path, "bold"), f"  {_percent(file['percent'])} of the time ({seconds})")
    ]
    if file["lines"]:
        parts.append(_line_table(file["lines"], view))
    if file["functions"]:
        parts += [Text(""), _function_table(file["functions"], view)]
    return Group(*parts)


def _line_table(lines: list[dict[str, Any]], view: _View) -> Table:
    table = _table(view)
    table.add_column("Line", justify="right", no_wrap=True)
    _add_measure_columns(table, view)
    # The only column that may shrink: the source line gives way to the numbers.
    table.add_column("Source")
    for line in sorted(lines, key=lambda entry: entry["line"]):
        source = Text(line["source"], no_wrap=True, overflow="ellipsis")
        table.add_row(str(line["line"]), *_measure_cells(line, view), source)
    return table


def _function_table(functions: list[dict[str, Any]], view: _View) -> Table:
    table = _table(view)
    table.add_column("Function")
    table.add_column("Line", justify="right", no_wrap=True)
    _add_measure_columns(table, view)
    for function in sorted(functions, key=lambda entry: (-total_percent(entry), entry["line"])):
        name = Text(function["name"], no_wrap=True, overflow="ellipsis")
        table.add_row(name, str(function["line"]), *_measure_cells(function, view))
    return table


def _table(view: _View) -> Table:
    return Table(
        box=box.SIMPLE_HEAD if view.color else _PLAIN_BOX,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        header_style="bold",
    )


def _add_measure_columns(table: Table, view: _View) -> None:
    for kind in TIME_KINDS:
        table.add_column(_KIND_HEADERS[kind], justify="right", no_wrap=True)
    if view.show_gil:
        table.add_column(_GIL_HEADER, justify="right", no_wrap=True)
    for column in view.optional_columns:
        table.add_column(column.header, justify="right", no_wrap=True)
    table.add_column("", width=view.bar_width, no_wrap=True)


def _measure_cells(entry: dict[str, Any], view: _View) -> list[Text]:
    cells = [
        Text(_percent_cell(entry[f"{kind}_percent"]), style=_KIND_COLORS[kind])
        for kind in TIME_KINDS
    ]
    if view.show_gil:
        cells.append(Text(_percent_cell(entry["gil_wait_percent"]), style=_GIL_COLOR))
    for column in view.optional_columns:
        value = entry.get(column.field)
        cells.append(Text("" if value is None else column.format(value)))
    cells.append(_bar(entry, view))
    return cells


def _bar(entry: dict[str, Any], view: _View) -> Text:
    """One bar per row, its length the row's share of all time, in one segment per kind."""
    bar = Text()
    drawn = 0
    cumulative_percent = 0.0
    for kind in TIME_KINDS:
        cumulative_percent += entry[f"{kind}_percent"]
        # Ends rounded from the running sum, so segments never add up to more than the whole.
        end = min(view.bar_width, round(cumulative_percent / 100 * view.bar_width))
        bar.append(_bar_character(kind, view) * (end - drawn), style=_KIND_COLORS[kind])
        drawn = end
    return bar


def _bar_character(kind: str, view: _View) -> str:
    return _COLOR_BAR_CHARACTER if view.color else _PLAIN_BAR_CHARACTERS[kind]


def _legend(doc: dict[str, Any], view: _View) -> RenderableType:
    columns = Table.grid(padding=(0, 2))
    columns.add_column(no_wrap=True)
    columns.add_column()
    for kind in TIME_KINDS:
        columns.add_row(Text(_KIND_HEADERS[kind], style=_KIND_COLORS[kind]), _KIND_LEGENDS[kind])
    if view.show_gil:
        columns.add_row(Text(_GIL_HEADER, style=_GIL_COLOR), _GIL_LEGEND)
    for column in view.optional_columns:
        columns.add_row(column.header, column.legend)
    columns.add_row("bar", _bar_legend(view))
    base = f"Percentages are of all Python, native and system time ({_seconds(total_seconds(doc))})"
    if view.show_gil:
        base += "; GIL wait is measured against the same total but is not part of it"
    return Group(Text("Legend", style="bold"), columns, Text(base + "."))


def _bar_legend(view: _View) -> Text:
    legend = Text()
    for kind in TIME_KINDS:
        legend.append(_bar_character(kind, view), style=_KIND_COLORS[kind])
        legend.append(f" {_KIND_HEADERS[kind]}, ")
    legend.append(f"one character per {100 / view.bar_width:g}% of the total time")
    return legend


def _percent(value: float) -> str:
    if 0 < value and round(value, 1) == 0:
        return "<0.1%"
    return f"{value:.1f}%"


def _percent_cell(value: float) -> str:
    """Zero stays blank in tables, so that the time that exists stands out."""
    return _percent(value) if value else ""


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value == 0:
        return "0 s"
    milliseconds = value * 1000
    if milliseconds >= 10:
        return f"{milliseconds:.0f} ms"
    if milliseconds >= 0.1:
        return f"{milliseconds:.1f} ms"
    return "<0.1 ms"
