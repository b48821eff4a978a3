"""Terminal report: the profile document as text tables, colored on a terminal, plain elsewhere.

Plain output is ASCII: no ANSI escape, no box-drawing or block character, no ellipsis, so it can
be piped and diffed.
Reads only the profile document (docs/profile-format.md), never the engine. Sections, in order:
header, scope notes, memory (summary, top lines by memory, suspected leaks; only when memory was
measured), one section per file (line table, then function table), legend.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from .document import (
    REDUCED_MIN_PERCENT,
    TIME_KINDS,
    has_memory,
    leaking_lines,
    line_source,
    lines_by_memory,
    total_percent,
    total_seconds,
    visible,
)

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
_REDUCED_MEMORY_NOTE = (
    f"Reduced profile: only lines and functions with {REDUCED_MIN_PERCENT:g}% or more of the time,"
    " of the memory allocated, of the peak footprint or of the data copied, and suspected leaks."
)

_COLOR_BAR_CHARACTER = "\u2588"
_PLAIN_BAR_CHARACTERS = {"python": "#", "native": "=", "system": "~"}
_WIDE_CONSOLE_COLUMNS = 120
_WIDE_BAR_WIDTH = 20
_NARROW_BAR_WIDTH = 10
# Below this many columns, a table with optional columns drops the bar so that the source text
# keeps some room (the percentages say the same), and the less needed optional columns go.
_MEDIUM_CONSOLE_COLUMNS = 100
# The per-line memory sparkline only where every other column leaves the source text room.
_GRAPH_CONSOLE_COLUMNS = 140

# Memory over time, lowest to highest; a blank means nothing held. Plain output stays ASCII.
_COLOR_SPARK_CHARACTERS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
_PLAIN_SPARK_CHARACTERS = ".:-=+*#@"
_MEMORY_COLOR = "blue"
_SPARKLINE_WIDTH = 12
_FOOTPRINT_WIDTH = 40
_TOP_MEMORY_LINES = 10
# Rows of the process table; the JSON document lists every process.
_MAX_PROCESS_ROWS = 20
_LEAK_COLOR = "bold red"
_WARNING_COLOR = "bold yellow"

# rich's SIMPLE_HEAD drawn with '-', so that plain tables stay ASCII.
_PLAIN_BOX = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


@dataclass(frozen=True)
class _OptionalColumn:
    """A measurement that gets a column only where some line or function has a nonzero value of
    `shown_by` (its own field unless named), and the console is at least `min_console_columns`
    wide, so that the source text keeps its room. A graph (graph_width > 0) has a fixed width."""

    field: str
    header: str
    legend: str
    cell: Callable[[Any, _View], Text]  # never given None
    shown_by: str = ""
    min_console_columns: int = 0
    graph_width: int = 0


@dataclass(frozen=True)
class _View:
    """What every table of one report shares: same columns everywhere, same bar scale."""

    color: bool
    show_gil: bool
    optional_columns: tuple[_OptionalColumn, ...]
    bar_width: int  # 0: no bar
    elapsed_s: float


def _megabytes_cell(value: float, view: _View) -> Text:
    return Text(_megabytes_number(value))


def _python_share_cell(fraction: float, view: _View) -> Text:
    return Text(_fraction_percent(fraction))


def _sparkline_cell(timeline: list[list[float]], view: _View) -> Text:
    return Text(_sparkline(timeline, view.elapsed_s, _SPARKLINE_WIDTH, view.color),
                style=_MEMORY_COLOR)


def _gpu_cell(percent: float, view: _View) -> Text:
    return Text(f"{percent:.0f}%")


_ALLOC_COLUMN = _OptionalColumn(
    "alloc_mb", "alloc MB",
    "MB allocated by the line over the run, estimated from samples", _megabytes_cell)
_PYTHON_SHARE_COLUMN = _OptionalColumn(
    "python_alloc_fraction", "py%",
    "share of alloc MB allocated through Python's allocator (Python objects); the rest came"
    " from native code, such as the buffers of NumPy arrays",
    _python_share_cell, shown_by="alloc_mb", min_console_columns=_MEDIUM_CONSOLE_COLUMNS)
_PEAK_COLUMN = _OptionalColumn(
    "peak_mb", "peak MB", "most memory allocated by the line and live at one time, in MB",
    _megabytes_cell)
_AVG_COLUMN = _OptionalColumn(
    "avg_mb", "avg MB", "memory allocated by the line and live, averaged over the run, in MB",
    _megabytes_cell)
_OPTIONAL_COLUMNS = (
    _ALLOC_COLUMN,
    _PYTHON_SHARE_COLUMN,
    _PEAK_COLUMN,
    _OptionalColumn(
        "timeline", "memory",
        "the line's live memory from the start of profiling (left) to its end (right),"
        " scaled to the line's own peak", _sparkline_cell,
        min_console_columns=_GRAPH_CONSOLE_COLUMNS, graph_width=_SPARKLINE_WIDTH),
    _OptionalColumn(
        "copy_mb_s", "copy MB/s",
        "MB copied by the line (memcpy and the like) per second of the run", _megabytes_cell,
        min_console_columns=_MEDIUM_CONSOLE_COLUMNS),
    _OptionalColumn("gpu_percent", "GPU", "GPU utilization while the line ran", _gpu_cell),
)
# The columns of the top-lines-by-memory table, after the location.
_TOP_MEMORY_COLUMNS = (_ALLOC_COLUMN, _PYTHON_SHARE_COLUMN, _PEAK_COLUMN, _AVG_COLUMN)
_LIKELIHOOD_HEADER = "likelihood"
_LIKELIHOOD_LEGEND = "how likely the line leaks: its live memory kept growing and was not freed"
_GROWTH_HEADER = "growth MB/s"
_GROWTH_LEGEND = "how fast the suspected leak grew, in MB per second"


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
    reduced: show only the lines and functions that matter (document.filter_reduced).
    Only the @profile-decorated functions are shown when some were decorated.
    width: columns to fit (None: $COLUMNS, else the terminal's width, else 80).
    """
    if color is None:
        color = out.isatty() and "NO_COLOR" not in os.environ
    shown = visible(doc, reduced=reduced)
    console = _console(out, color, width)
    view = _view(shown, color, console.width)
    sections = [_header(shown)]
    notes = _scope_notes(shown, reduced)
    if notes:
        sections.append(Group(*notes))
    if len(shown.get("processes", [])) > 1:
        sections.append(_process_table(shown, view))
    if has_memory(shown):
        sections += _memory_sections(shown, view)
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
    optional_columns = tuple(
        column
        for column in _OPTIONAL_COLUMNS
        if console_width >= column.min_console_columns
        and any(entry.get(column.shown_by or column.field) for entry in entries)
    )
    if console_width >= _WIDE_CONSOLE_COLUMNS:
        bar_width = _WIDE_BAR_WIDTH
    elif console_width >= _MEDIUM_CONSOLE_COLUMNS or not optional_columns:
        bar_width = _NARROW_BAR_WIDTH
    else:
        bar_width = 0
    return _View(
        color=color,
        show_gil=any(entry["gil_wait_s"] > 0 for entry in entries),
        optional_columns=optional_columns,
        bar_width=bar_width,
        elapsed_s=doc["elapsed_s"],
    )


def _entries(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for file in doc["files"].values():
        yield from file["lines"]
        yield from file["functions"]


def _header(doc: dict[str, Any]) -> RenderableType:
    title = Text.assemble(("heatline", "bold"), " profile of ", _shown_path(doc["program"]))
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("elapsed", _seconds(doc["elapsed_s"]))
    facts.add_row("time", _time_split(doc["totals"]))
    outside_s = doc["totals"]["outside_program_s"]
    if outside_s > 0:
        facts.add_row("elsewhere", f"{_seconds(outside_s)} of it on no line of the program")
    facts.add_row("samples", _sampling(doc))
    processes = doc.get("processes", [])
    if len(processes) > 1:
        facts.add_row("processes", _process_summary(processes))
    parts: list[RenderableType] = [title]
    if doc["message"]:
        parts.append(Text(f"Note: {doc['message']}", style="bold yellow"))
    for warning in doc.get("warnings", ()):
        parts.append(Text(f"Warning: {warning}", style="bold yellow"))
    parts.append(facts)
    return Group(*parts)


def _process_summary(processes: list[dict[str, Any]]) -> str:
    methods = Counter(process.get("start_method") or "unknown" for process in processes[1:])
    how = ", ".join(f"{count} {method}" for method, count in sorted(methods.items()))
    return (f"{len(processes)}: the program (pid {processes[0]['pid']}) and {len(processes) - 1} it started "
            f"({how}); times and MB allocated add up over them, peaks are per process")


def _process_table(doc: dict[str, Any], view: _View) -> RenderableType:
    table = _table(view, expand=True)
    for header in ("pid", "parent", "started by", "CPU", "elapsed", "peak MB"):
        table.add_column(header, justify="right" if header != "started by" else "left", no_wrap=True)
    table.add_column("command", overflow="ellipsis", no_wrap=True, ratio=1)
    shown = doc["processes"][:_MAX_PROCESS_ROWS]
    working = {pid for entry in _entries(doc) for pid in entry.get("processes", ())}
    for process in shown:
        peak = process.get("peak_mb")
        method = process.get("start_method") or "heatline"
        if not process.get("complete") and process["pid"] in working:
            method += " (cut short)"
        table.add_row(str(process["pid"]), str(process.get("ppid", "")), method, _seconds(process.get("cpu_s", 0)),
                      _seconds(process["elapsed_s"]), _megabytes_number(peak) if peak is not None else "",
                      " ".join(process.get("argv", [])))
    parts: list[RenderableType] = [Text("Processes", style="bold"), table]
    if len(doc["processes"]) > len(shown):
        parts.append(Text(f"and {len(doc['processes']) - len(shown)} more (the JSON document lists every one)"))
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
        notes.append(Text(_REDUCED_MEMORY_NOTE if has_memory(doc) else _REDUCED_NOTE))
    return notes


def _memory_sections(doc: dict[str, Any], view: _View) -> list[RenderableType]:
    sections = [_memory_summary(doc, view)]
    ranked = lines_by_memory(doc, _TOP_MEMORY_LINES)
    if ranked:
        sections.append(_top_memory_lines(doc, ranked, view))
    leaks = leaking_lines(doc)
    if leaks:
        sections.append(_suspected_leaks(doc, leaks, view))
    return sections


def _memory_summary(doc: dict[str, Any], view: _View) -> RenderableType:
    totals = doc["totals"]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("peak", _memory_peak(doc, view))
    if doc["timeline"]:
        facts.add_row("footprint", _footprint(doc, view))
    allocated = _megabytes(totals["alloc_mb"])
    python_fraction = totals.get("python_alloc_fraction")
    if python_fraction is not None:
        allocated += f", {_fraction_percent(python_fraction)} of it through Python's allocator"
    facts.add_row("allocated", allocated)
    copied = _megabytes(totals["copy_mb"])
    if totals["copy_mb"] and doc["elapsed_s"] > 0:
        copied += f", {_megabytes(totals['copy_mb'] / doc['elapsed_s'])}/s"
    facts.add_row("copied", copied)
    facts.add_row("samples", _memory_sampling(doc))
    return Group(Text("Memory", style="bold"), facts)


def _memory_peak(doc: dict[str, Any], view: _View) -> Text:
    peak = doc.get("memory_peak")
    if peak is None:
        return Text(_megabytes(doc["totals"]["peak_mb"]))
    text = f"{_megabytes(peak['mb'])} at {_seconds(peak['t_s'])}"
    if peak["file"] is not None:
        text += f", largest share held by {_location(doc, peak['file'], peak['line'])}"
        source = line_source(doc, peak["file"], peak["line"])
        if source is not None:
            text += f"  {source.strip()}"
    return _cut_text(text, view)


def _footprint(doc: dict[str, Any], view: _View) -> Text:
    timeline = doc["timeline"]
    top_mb = max(mb for _, mb in timeline)
    return Text.assemble(
        (_sparkline(timeline, doc["elapsed_s"], _FOOTPRINT_WIDTH, view.color), _MEMORY_COLOR),
        f"  0 to {_megabytes(top_mb)} over {_seconds(doc['elapsed_s'])}",
    )


def _memory_sampling(doc: dict[str, Any]) -> Text:
    samples = doc["samples"]
    interval = _bytes(doc["memory_sampling_rate_bytes"])
    count = samples.get("memory")
    if count is None:
        text = Text(f"about one memory sample per {interval} allocated or copied")
    else:
        text = Text(f"{count} memory samples, about one per {interval} allocated or copied")
    dropped = samples.get("memory_dropped")
    if dropped:
        text.append(f"; {dropped} lost or untracked (the engine's event ring or table of sampled"
                    " blocks was full), their memory missing from some figures", style=_WARNING_COLOR)
    return text


def _top_memory_lines(doc: dict[str, Any], ranked: list[tuple[str, dict[str, Any]]],
                      view: _View) -> RenderableType:
    table = _table(view)
    table.add_column("Location", no_wrap=True)
    for column in _TOP_MEMORY_COLUMNS:
        table.add_column(column.header, justify="right", no_wrap=True)
    table.add_column("Source")
    for path, line in ranked:
        table.add_row(
            _location(doc, path, line["line"]),
            *(_optional_cell(line, column, view) for column in _TOP_MEMORY_COLUMNS),
            _cut_text(line["source"].strip(), view),
        )
    return Group(Text("Top lines by memory (peak MB, then alloc MB)", style="bold"), table)


def _suspected_leaks(doc: dict[str, Any], leaks: list[tuple[str, dict[str, Any]]],
                     view: _View) -> RenderableType:
    table = _table(view)
    table.add_column("Location", no_wrap=True)
    table.add_column(_LIKELIHOOD_HEADER, justify="right", no_wrap=True)
    table.add_column(_GROWTH_HEADER, justify="right", no_wrap=True)
    table.add_column("Source")
    for path, line in leaks:
        leak = line["leak"]
        table.add_row(
            _location(doc, path, line["line"]),
            Text(_fraction_percent(leak["likelihood"]), style=_LEAK_COLOR),
            _rate(leak["mb_s"]),
            _cut_text(line["source"].strip(), view),
        )
    title = Text("Suspected memory leaks: live memory of these lines kept growing",
                 style=_LEAK_COLOR)
    return Group(title, table)


def _location(doc: dict[str, Any], path: str, number: Optional[int]) -> str:
    """path:line, the path relative to the program's directory when the file is under it."""
    program_dir = os.path.dirname(doc["program"]) if os.path.isabs(doc["program"]) else ""
    if program_dir and path.startswith(program_dir + os.sep):
        path = path[len(program_dir) + 1:]
    return path if number is None else f"{path}:{number}"


def _shown_path(path: str) -> str:
    """The path relative to the current directory when the file lies under it, else as given."""
    try:
        cwd = os.getcwd()
    except OSError:  # the program may have removed the directory it ran in
        return path
    if os.path.isabs(path) and path.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(path, cwd)
    return path


def _file_sections(doc: dict[str, Any], view: _View) -> list[RenderableType]:
    if not doc["files"]:
        # A document with a message (no sample taken) has already said why it is empty.
        return [] if doc["message"] else [Text("No line of the profiled code to show.")]
    by_share = sorted(doc["files"].items(), key=lambda item: (-item[1]["percent"], item[0]))
    return [_file_section(path, file, view) for path, file in by_share]


def _file_section(path: str, file: dict[str, Any], view: _View) -> RenderableType:
    seconds = _seconds(sum(file[f"{kind}_s"] for kind in TIME_KINDS))
    parts: list[RenderableType] = [
        Text.assemble((_shown_path(path), "bold"),
                      f"  {_percent(file['percent'])} of the time ({seconds})")
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
        source = _cut_text(line["source"], view)
        table.add_row(str(line["line"]), *_measure_cells(line, view), source)
    return table


def _function_table(functions: list[dict[str, Any]], view: _View) -> Table:
    table = _table(view)
    table.add_column("Function")
    table.add_column("Line", justify="right", no_wrap=True)
    _add_measure_columns(table, view)
    for function in sorted(functions, key=lambda entry: (-total_percent(entry), entry["line"])):
        name = _cut_text(function["name"], view)
        table.add_row(name, str(function["line"]), *_measure_cells(function, view))
    return table


def _cut_text(text: str, view: _View) -> Text:
    """Text cut to its column; the ellipsis rich marks the cut with is not ASCII."""
    return Text(text, no_wrap=True, overflow="ellipsis" if view.color else "crop")


def _table(view: _View, expand: bool = False) -> Table:
    return Table(
        expand=expand,
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
        if column.graph_width:
            table.add_column(column.header, width=column.graph_width, no_wrap=True)
        else:
            table.add_column(column.header, justify="right", no_wrap=True)
    if view.bar_width:
        table.add_column("", width=view.bar_width, no_wrap=True)


def _measure_cells(entry: dict[str, Any], view: _View) -> list[Text]:
    cells = [
        Text(_percent_cell(entry[f"{kind}_percent"]), style=_KIND_COLORS[kind])
        for kind in TIME_KINDS
    ]
    if view.show_gil:
        cells.append(Text(_percent_cell(entry["gil_wait_percent"]), style=_GIL_COLOR))
    cells += [_optional_cell(entry, column, view) for column in view.optional_columns]
    if view.bar_width:
        cells.append(_bar(entry, view))
    return cells


def _optional_cell(entry: dict[str, Any], column: _OptionalColumn, view: _View) -> Text:
    value = entry.get(column.field)
    return Text("") if value is None else column.cell(value, view)


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


def _sparkline(timeline: list[list[float]], end_s: float, width: int, color: bool) -> str:
    """`width` characters, one per equal slice of the run from 0 to `end_s`, each as high as the
    most memory held during its slice, relative to the most held at all; blank where none."""
    characters = _spark_characters(color)
    peaks = _slice_peaks(timeline, end_s, width)
    top_mb = max(peaks)
    if top_mb <= 0:
        return " " * width
    return "".join(
        characters[max(0, math.ceil(mb / top_mb * len(characters)) - 1)] if mb > 0 else " "
        for mb in peaks
    )


def _spark_characters(color: bool) -> str:
    return _COLOR_SPARK_CHARACTERS if color else _PLAIN_SPARK_CHARACTERS


def _slice_peaks(timeline: list[list[float]], end_s: float, width: int) -> list[float]:
    """The most MB held in each of `width` equal slices of 0..end_s. A timeline point (the most
    held in its bucket) stands until the next point, so a slice without a point of its own shows
    the value carried in; points at or past end_s fall in the last slice."""
    peaks = []
    held_mb = 0.0
    index = 0
    for slice_number in range(width):
        last = slice_number == width - 1
        slice_end_s = (slice_number + 1) * end_s / width
        peak_mb = held_mb
        while index < len(timeline) and (last or timeline[index][0] < slice_end_s):
            held_mb = timeline[index][1]
            peak_mb = max(peak_mb, held_mb)
            index += 1
        peaks.append(peak_mb)
    return peaks


def _legend(doc: dict[str, Any], view: _View) -> RenderableType:
    columns = Table.grid(padding=(0, 2))
    columns.add_column(no_wrap=True)
    columns.add_column()
    for kind in TIME_KINDS:
        columns.add_row(Text(_KIND_HEADERS[kind], style=_KIND_COLORS[kind]), _KIND_LEGENDS[kind])
    if view.show_gil:
        columns.add_row(Text(_GIL_HEADER, style=_GIL_COLOR), _GIL_LEGEND)
    for column in view.optional_columns:
        columns.add_row(column.header, _column_legend(column, view))
    if view.bar_width:
        columns.add_row("bar", _bar_legend(view))
    memory = has_memory(doc)
    if memory and lines_by_memory(doc, 1):
        for column in _TOP_MEMORY_COLUMNS:
            if column not in view.optional_columns:
                columns.add_row(column.header, column.legend)
    if memory and leaking_lines(doc):
        columns.add_row(_LIKELIHOOD_HEADER, _LIKELIHOOD_LEGEND)
        columns.add_row(_GROWTH_HEADER, _GROWTH_LEGEND)
    base = f"Percentages are of all Python, native and system time ({_seconds(total_seconds(doc))})"
    if view.show_gil:
        base += "; GIL wait is measured against the same total but is not part of it"
    notes = [Text(base + ".")]
    if memory:
        notes.append(Text("Memory figures are estimates from the memory samples;"
                          " 1 MB is 2^20 bytes."))
    return Group(Text("Legend", style="bold"), columns, *notes)


def _column_legend(column: _OptionalColumn, view: _View) -> str:
    if not column.graph_width:
        return column.legend
    characters = _spark_characters(view.color)
    return f"{column.legend}: {characters[0]} least, {characters[-1]} most, blank none"


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


def _fraction_percent(fraction: float) -> str:
    return f"{fraction * 100:.0f}%"


def _megabytes_number(value: float) -> str:
    """Zero stays blank in tables, like time."""
    if value == 0:
        return ""
    if round(value, 1) == 0:
        return "<0.1"
    return f"{value:.1f}"


def _megabytes(value: float) -> str:
    return f"{_megabytes_number(value) or '0'} MB"


def _rate(mb_s: float) -> str:
    if 0 < mb_s < 0.01:
        return "<0.01"
    return f"{mb_s:.2f}"


def _bytes(value: int) -> str:
    if value >= 2**20:
        return f"{value / 2**20:g} MB"
    if value >= 2**10:
        return f"{value / 2**10:g} KB"
    return f"{value} bytes"


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
