"""Terminal report: the profile document as text tables, colored on a terminal, plain elsewhere.

Plain output is ASCII: no ANSI escape, no box-drawing or block character, no ellipsis, so it can
be piped and diffed.
Reads only the profile document (docs/profile-format.md), never the engine. Sections, in order:
header, scope notes, memory (summary, top lines by memory, suspected leaks; only when memory was
measured), top lines by time (when the lines outnumber it), one section per file (line table, then
function table), legend.

Nothing that carries a number is ever cut: at any width the source text gives way, and a path
is shortened from the left (.../lib/python3.11/timeit.py:180), keeping its file name and line.
"""

from __future__ import annotations

import gc
import math
import os
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from .document import (
    AWAIT_COLUMN_LEGEND,
    IDLE_COLUMN_LEGEND,
    KIND_HEADERS,
    KIND_LEGENDS,
    REDUCED_MIN_PERCENT,
    TIME_KINDS,
    allocated_summary,
    cpu_wait_summary,
    elapsed_summary,
    await_s,
    await_summary,
    idle_s,
    idle_summary,
    gpu_note,
    gpu_summary,
    has_gpu,
    has_memory,
    leaking_lines,
    likelihood_percent,
    line_count,
    line_source,
    lasting_mb,
    lasting_python_fraction,
    lines_by_memory,
    lines_by_time,
    noticeable_cpu_wait_s,
    runs_summary,
    slice_peaks,
    total_percent,
    total_seconds,
    visible,
)
from . import numbers
from .grid import Cell, Grid, Piece, width_of

_KIND_COLORS = {"python": "cyan", "native": "magenta", "system": "green"}
_GIL_HEADER = "GIL wait"
_GIL_COLOR = "red"
_IDLE_COLOR = "bright_black"
_GIL_LEGEND = "time ready to run Python while another thread held the GIL"
_TOTAL_HEADER = "total"
_TOTAL_LEGEND = "Python + native + system: the line's share of all time"
_BAR_HEADER = "bar"
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
_GPU_COLOR = "yellow"
_SPARKLINE_WIDTH = 12
_FOOTPRINT_WIDTH = 40
_TOP_MEMORY_LINES = 10
# Rows of "top lines by time". The section is shown only when the report has more lines than
# this: with fewer, the file tables below already show every line at a glance, and the section
# would repeat them in another order and push the files down.
_TOP_TIME_LINES = 10
# A table of ranked lines leaves the source text at least this many columns where the console
# allows, shortening the location (from the left) to make room; the numbers are never cut. At 80
# columns this leaves the location of a library line room for two directories:
# .../python3.11/timeit.py:180.
_MIN_SOURCE_COLUMNS = 16
# Columns between two table columns: the cell's right padding and the box's divider.
_COLUMN_GAP = 2
# What a path shortened from the left starts with.
_SHORTENED_PATH = "..." + os.sep
# Columns between a fact's label and its text (the padding of the header's and memory's grids).
_FACT_PADDING = 2
_MEMORY_FACT_LABELS = ("peak", "footprint", "allocated", "copied", "samples")
# Rows of the process table; the JSON document lists every process.
_MAX_PROCESS_ROWS = 20
_LEAK_COLOR = "bold red"
_WARNING_COLOR = "bold yellow"

# rich's SIMPLE_HEAD drawn with '-', so that plain tables stay ASCII.
_PLAIN_BOX = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


@dataclass(frozen=True)
class _OptionalColumn:
    """A measurement that gets a column only where some line or function has a nonzero value of
    its own, or of the column it is `shown_with`, and the console is at least `min_console_columns`
    wide, so that the source text keeps its room. A graph (graph_width > 0) has a fixed width.
    A GPU column (`gpu`) is shown whenever the GPU was measured, zeros included: 0% on every
    line is a finding there, not an absence."""

    field: str
    header: str
    legend: str
    cell: Callable[[Any, _View], Cell]  # never given None
    shown_with: Optional["_OptionalColumn"] = None
    min_console_columns: int = 0
    graph_width: int = 0
    gpu: bool = False
    value: Optional[Callable[[dict[str, Any]], Any]] = None  # the cell's value, when not the field's

    def of(self, entry: dict[str, Any]) -> Any:
        return self.value(entry) if self.value else entry.get(self.field)


@dataclass(frozen=True)
class _View:
    """What every table of one report shares: same columns everywhere, same bar scale."""

    color: bool
    show_gil: bool
    optional_columns: tuple[_OptionalColumn, ...]
    bar_width: int  # 0: no bar
    elapsed_s: float
    width: int  # the console's columns
    # The headers of the columns the report's tables show, as they are added: the legend
    # explains these and no other.
    shown_headers: set[str] = field(default_factory=set)


def _megabytes_cell(value: float, view: _View) -> Cell:
    return numbers.megabytes_number(value)


def _seconds_cell(value: float, view: _View) -> Cell:
    return (numbers.seconds(value), _IDLE_COLOR)


def _python_share_cell(fraction: float, view: _View) -> Cell:
    return numbers.fraction_percent(fraction)


def _sparkline_cell(timeline: list[list[float]], view: _View) -> Cell:
    return (_sparkline(timeline, view.elapsed_s, _SPARKLINE_WIDTH, view.color), _MEMORY_COLOR)


def _gpu_cell(percent: float, view: _View) -> Cell:
    return (f"{percent:.0f}%", _GPU_COLOR)


def _gpu_megabytes_cell(value: float, view: _View) -> Cell:
    return (numbers.megabytes_number(value), _GPU_COLOR)


_ALLOC_COLUMN = _OptionalColumn(
    "alloc_mb", "alloc MB",
    "MB allocated by the line over the run, estimated from samples, less small blocks freed at"
    " once (within about 10 ms: the integers of `i += 1`), which the header counts apart",
    _megabytes_cell, value=lasting_mb)
_PYTHON_SHARE_COLUMN = _OptionalColumn(
    "python_alloc_fraction", "py%",
    "share of alloc MB allocated through Python's allocator (Python objects); the rest came"
    " from native code, such as the buffers of NumPy arrays",
    _python_share_cell, shown_with=_ALLOC_COLUMN, min_console_columns=_MEDIUM_CONSOLE_COLUMNS,
    value=lasting_python_fraction)
_PEAK_COLUMN = _OptionalColumn(
    "peak_mb", "peak MB", "most memory allocated by the line and live at one time, in MB",
    _megabytes_cell)
_AVG_COLUMN = _OptionalColumn(
    "avg_mb", "avg MB", "memory allocated by the line and live, averaged over the run, in MB",
    _megabytes_cell)
_IDLE_COLUMN = _OptionalColumn(
    "idle_s", "idle", IDLE_COLUMN_LEGEND, _seconds_cell)
_AWAIT_COLUMN = _OptionalColumn(
    "await_s", "await", AWAIT_COLUMN_LEGEND, _seconds_cell)
_OPTIONAL_COLUMNS = (
    _AWAIT_COLUMN,
    _IDLE_COLUMN,
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
    _OptionalColumn("gpu_percent", "GPU", "GPU utilization while the line ran", _gpu_cell, gpu=True),
    _OptionalColumn(
        "gpu_mem_avg_mb", "GPU avg MB", "mean GPU memory of the program while the line ran, in MB",
        _gpu_megabytes_cell, min_console_columns=_MEDIUM_CONSOLE_COLUMNS, gpu=True),
    _OptionalColumn(
        "gpu_mem_peak_mb", "GPU peak MB", "highest GPU memory of the program while the line ran, in MB",
        _gpu_megabytes_cell, gpu=True),
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
    with _no_cycle_collection():
        _render_text(doc, out, color, reduced, width)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The report makes hundreds of thousands of small objects and no cycles; the collector
    would walk the whole document each time they add up (half of the time of a 20,000-line
    report). It runs again, as it was, when the report is written."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _render_text(doc: dict[str, Any], out: TextIO, color: bool, reduced: bool, width: Optional[int]) -> None:
    shown = visible(doc, reduced=reduced)
    console = _console(out, color, width)
    view = _view(shown, color, console.width)
    sections = [_header(shown, view)]
    notes = _scope_notes(shown, reduced)
    if notes:
        sections.append(Group(*notes))
    if len(shown.get("processes", [])) > 1:
        sections.append(_process_table(shown, view))
    if has_memory(shown):
        sections += _memory_sections(shown, view)
    if line_count(shown) > _TOP_TIME_LINES:
        sections.append(_top_time_lines(shown, view))
    sections += _file_sections(shown, view)
    if shown["files"]:
        sections.append(_legend(shown, view))
    print_sections(console, sections, out)


def print_sections(console: Console, sections: list[RenderableType], out: TextIO) -> None:
    """Writes the sections to `out`, a blank line between two (the diff's text uses it too)."""
    lines: list[str] = []
    for number, section in enumerate(sections):
        if number:
            lines.append("")
        lines += _lines(console, section)
    # Tables pad every cell; trailing blanks only make diffs of plain reports noisy.
    out.write("".join(line.rstrip() + "\n" for line in lines))


def _lines(console: Console, renderable: RenderableType) -> list[str]:
    """`renderable` as `console` writes it, line by line; a Grid writes its own lines."""
    if isinstance(renderable, Grid):
        return renderable.lines(console)
    if isinstance(renderable, Group):
        return [line for part in renderable.renderables for line in _lines(console, part)]
    with console.capture() as capture:
        console.print(renderable)
    return capture.get().rstrip("\n").split("\n")


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
        force_jupyter=False,  # inside a Jupyter kernel rich would also display the text as HTML
    )


def _view(doc: dict[str, Any], color: bool, console_width: int) -> _View:
    entries = list(_entries(doc))
    gpu = has_gpu(doc)
    optional_columns = tuple(
        column
        for column in _OPTIONAL_COLUMNS
        if console_width >= column.min_console_columns
        and (gpu if column.gpu else any((column.shown_with or column).of(entry) for entry in entries))
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
        width=console_width,
    )


def _entries(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for file in doc["files"].values():
        yield from file["lines"]
        yield from file["functions"]


def _header(doc: dict[str, Any], view: _View) -> RenderableType:
    lead = " profile of "
    program = _fit_path(numbers.shown_path(doc["program"]), view.width - len("heatline" + lead))
    title = Text.assemble(("heatline", "bold"), lead, program)
    facts = Table.grid(padding=(0, _FACT_PADDING))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    cpu_wait_s = noticeable_cpu_wait_s(doc)
    facts.add_row("elapsed", elapsed_summary(doc, cpu_wait_s))
    facts.add_row("time", _time_split(doc["totals"]))
    if cpu_wait_s:
        facts.add_row("CPU wait", cpu_wait_summary(cpu_wait_s))
    if await_s(doc):
        facts.add_row("await", await_summary(doc))
    if idle_s(doc):
        facts.add_row("idle", idle_summary(doc))
    outside_s = doc["totals"]["outside_program_s"]
    if outside_s > 0:
        facts.add_row("elsewhere", f"{numbers.seconds(outside_s)} of it on no line of the program")
    facts.add_row("samples", _sampling(doc))
    note = gpu_note(doc)
    if has_gpu(doc):
        facts.add_row("GPU", gpu_summary(doc) + (f"; {note}" if note else ""))
    elif note:
        facts.add_row("GPU", f"not read: {note}")
    processes = doc.get("processes", [])
    runs = runs_summary(doc)
    if runs:
        facts.add_row("runs", runs)
    elif len(processes) > 1:
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
    # At most _MAX_PROCESS_ROWS rows: rich's Table, whose last column takes the width left.
    table = rich_table(view.color, expand=True)
    for header in ("pid", "parent", "started by", "CPU", "elapsed", "peak MB"):
        table.add_column(header, justify="right" if header != "started by" else "left", no_wrap=True)
    table.add_column("command", overflow="ellipsis" if view.color else "crop", no_wrap=True, ratio=1)
    shown = doc["processes"][:_MAX_PROCESS_ROWS]
    working = {pid for entry in _entries(doc) for pid in entry.get("processes", ())}
    for process in shown:
        peak = process.get("peak_mb")
        method = process.get("start_method") or "heatline"
        if not process.get("complete") and process["pid"] in working:
            method += " (cut short)"
        table.add_row(str(process["pid"]), str(process.get("ppid", "")), method, numbers.seconds(process.get("cpu_s", 0)),
                      numbers.seconds(process["elapsed_s"]), numbers.megabytes_number(peak) if peak is not None else "",
                      " ".join(process.get("argv", [])))
    parts: list[RenderableType] = [Text("Processes", style="bold"), table]
    if len(doc["processes"]) > len(shown):
        parts.append(Text(f"and {len(doc['processes']) - len(shown)} more (the JSON document lists every one)"))
    return Group(*parts)


def _time_split(totals: dict[str, Any]) -> Text:
    split = Text()
    for kind in TIME_KINDS:
        split.append(KIND_HEADERS[kind], style=_KIND_COLORS[kind])
        split.append(f" {numbers.seconds(totals[f'{kind}_s'])}, ")
    split.append(_GIL_HEADER, style=_GIL_COLOR)
    split.append(f" {numbers.seconds(totals['gil_wait_s'])}")
    return split


def _sampling(doc: dict[str, Any]) -> str:
    samples = doc["samples"]
    interval = numbers.seconds(doc["cpu_sampling_interval_s"])
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
    facts = Table.grid(padding=(0, _FACT_PADDING))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("peak", _memory_peak(doc, view))
    if doc["timeline"]:
        facts.add_row("footprint", _footprint(doc, view))
    facts.add_row("allocated", allocated_summary(totals))
    copied = numbers.megabytes(totals["copy_mb"])
    if totals["copy_mb"] and doc["elapsed_s"] > 0:
        copied += f", {numbers.megabytes(totals['copy_mb'] / doc['elapsed_s'])}/s"
    facts.add_row("copied", copied)
    facts.add_row("samples", _memory_sampling(doc))
    return Group(Text("Memory", style="bold"), facts)


def _memory_peak(doc: dict[str, Any], view: _View) -> Text:
    peak = doc.get("memory_peak")
    if peak is None:
        return Text(numbers.megabytes(doc["totals"]["peak_mb"]))
    text = f"{numbers.megabytes(peak['mb'])} at {numbers.seconds(peak['t_s'])}"
    if peak["file"] is not None:
        # The fact wraps at word boundaries; the location, one word, must fit a line of its own.
        fact_width = view.width - max(len(label) for label in _MEMORY_FACT_LABELS) - _FACT_PADDING
        location = _fit_path(numbers.location(doc, peak["file"], peak["line"]), fact_width)
        text += f", largest share held by {location}"
        source = line_source(doc, peak["file"], peak["line"])
        if source is not None:
            text += f"  {source.strip()}"
    # Only a source word wider than a line can overflow it: that one is cut, like source anywhere.
    return Text(text, overflow="ellipsis" if view.color else "crop")


def _footprint(doc: dict[str, Any], view: _View) -> Text:
    timeline = doc["timeline"]
    top_mb = max(mb for _, mb in timeline)
    return Text.assemble(
        (_sparkline(timeline, doc["elapsed_s"], _FOOTPRINT_WIDTH, view.color), _MEMORY_COLOR),
        f"  0 to {numbers.megabytes(top_mb)} over {numbers.seconds(doc['elapsed_s'])}",
    )


def _memory_sampling(doc: dict[str, Any]) -> Text:
    samples = doc["samples"]
    interval = numbers.byte_count(doc["memory_sampling_rate_bytes"])
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
    table = _ranked_table(
        doc, view, ranked, [column.header for column in _TOP_MEMORY_COLUMNS],
        lambda line: [_optional_cell(line, column, view) for column in _TOP_MEMORY_COLUMNS])
    return Group(Text("Top lines by memory (peak MB, then alloc MB)", style="bold"), table)


def _suspected_leaks(doc: dict[str, Any], leaks: list[tuple[str, dict[str, Any]]],
                     view: _View) -> RenderableType:
    table = _ranked_table(
        doc, view, leaks, [_LIKELIHOOD_HEADER, _GROWTH_HEADER],
        lambda line: [(likelihood_percent(line["leak"]["likelihood"]), _LEAK_COLOR),
                      numbers.rate(line["leak"]["mb_s"])])
    title = Text("Suspected memory leaks: live memory of these lines kept growing",
                 style=_LEAK_COLOR)
    return Group(title, table)


def _top_time_lines(doc: dict[str, Any], view: _View) -> RenderableType:
    headers = [_TOTAL_HEADER, *(KIND_HEADERS[kind] for kind in TIME_KINDS)]
    if view.show_gil:
        headers.append(_GIL_HEADER)

    def cells(line: dict[str, Any]) -> list[Cell]:
        row: list[Cell] = [(numbers.percent_cell(total_percent(line)), "bold")]
        row += [(numbers.percent_cell(line[f"{kind}_percent"]), _KIND_COLORS[kind]) for kind in TIME_KINDS]
        if view.show_gil:
            row.append((numbers.percent_cell(line["gil_wait_percent"]), _GIL_COLOR))
        return row

    table = _ranked_table(doc, view, lines_by_time(doc, _TOP_TIME_LINES), headers, cells)
    return Group(Text("Top lines by time (Python + native + system)", style="bold"), table)


def _ranked_table(doc: dict[str, Any], view: _View, ranked: list[tuple[str, dict[str, Any]]],
                  headers: list[str], cells_of: Callable[[dict[str, Any]], list[Cell]]) -> Grid:
    """Ranked lines, one row each: location, the columns `headers` (cells from `cells_of`), source.

    The numbers keep their whole width. The location is shortened from the left so that the
    source keeps _MIN_SOURCE_COLUMNS, down to its file name and line; the source gives way.
    """
    rows = [(path, line, cells_of(line)) for path, line in ranked]
    numbers_width = sum(
        max([len(header)] + [width_of(cells[index]) for _, _, cells in rows]) + _COLUMN_GAP
        for index, header in enumerate(headers))
    location_width = view.width - numbers_width - _MIN_SOURCE_COLUMNS - _COLUMN_GAP
    table = _table(view)
    _add_column(table, view, "Location", no_wrap=True)
    for header in headers:
        _add_column(table, view, header, justify="right", no_wrap=True)
    _add_column(table, view, "Source")
    for path, line, cells in rows:
        location = _fit_path(numbers.location(doc, path, line["line"]), location_width)
        table.add_row(location, *cells, _cut_text(line["source"].strip(), view))
    return table


def _fit_path(path: str, width: int) -> str:
    """`path` (maybe ending in :line) shortened from the left to `width` columns at a directory
    boundary: .../lib/python3.11/timeit.py:180. Its file name and line are always kept whole,
    even where they alone are wider."""
    if len(path) <= width:
        return path
    parts = path.split(os.sep)
    kept = parts[-1]
    for part in reversed(parts[:-1]):
        if len(_SHORTENED_PATH) + len(part) + len(os.sep) + len(kept) > width:
            break
        kept = part + os.sep + kept
    shortened = _SHORTENED_PATH + kept
    return shortened if len(shortened) < len(path) else path


def _file_sections(doc: dict[str, Any], view: _View) -> list[RenderableType]:
    if not doc["files"]:
        # A document with a message (no sample taken) has already said why it is empty.
        return [] if doc["message"] else [Text("No line of the profiled code to show.")]
    by_share = sorted(doc["files"].items(), key=lambda item: (-item[1]["percent"], item[0]))
    return [_file_section(path, file, view) for path, file in by_share]


def _file_section(path: str, file: dict[str, Any], view: _View) -> RenderableType:
    seconds = numbers.seconds(sum(file[f"{kind}_s"] for kind in TIME_KINDS))
    share = f"  {numbers.percent(file['percent'])} of the time ({seconds})"
    parts: list[RenderableType] = [
        Text.assemble((_fit_path(numbers.shown_path(path), view.width - len(share)), "bold"), share)
    ]
    if file["lines"]:
        parts.append(_line_table(file["lines"], view))
    if file["functions"]:
        parts += [Text(""), _function_table(file["functions"], view)]
    return Group(*parts)


def _line_table(lines: list[dict[str, Any]], view: _View) -> Grid:
    table = _table(view)
    table.add_column("Line", justify="right", no_wrap=True)
    _add_measure_columns(table, view)
    # The only column that may shrink: the source line gives way to the numbers.
    _add_column(table, view, "Source")
    for line in sorted(lines, key=lambda entry: entry["line"]):
        source = _cut_text(line["source"], view)
        table.add_row(str(line["line"]), *_measure_cells(line, view), source)
    return table


def _function_table(functions: list[dict[str, Any]], view: _View) -> Grid:
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


def rich_table(color: bool, expand: bool = False) -> Table:
    """A rich Table drawn as the report's tables are (the diff's text, the process table)."""
    return Table(expand=expand, box=box.SIMPLE_HEAD if color else _PLAIN_BOX, show_edge=False, pad_edge=False,
                 padding=(0, 1, 0, 0), header_style="bold")


def _table(view: _View) -> Grid:
    return Grid(rule="─" if view.color else "-")


def _add_column(table: Grid, view: _View, header: str, **options: Any) -> None:
    """Add a column, and note its header for the legend."""
    table.add_column(header, **options)
    view.shown_headers.add(header)


def _add_measure_columns(table: Grid, view: _View) -> None:
    for kind in TIME_KINDS:
        _add_column(table, view, KIND_HEADERS[kind], justify="right", no_wrap=True)
    if view.show_gil:
        _add_column(table, view, _GIL_HEADER, justify="right", no_wrap=True)
    for column in view.optional_columns:
        if column.graph_width:
            _add_column(table, view, column.header, width=column.graph_width, no_wrap=True)
        else:
            _add_column(table, view, column.header, justify="right", no_wrap=True)
    if view.bar_width:
        table.add_column("", width=view.bar_width, no_wrap=True)
        view.shown_headers.add(_BAR_HEADER)


def _measure_cells(entry: dict[str, Any], view: _View) -> list[Cell]:
    cells: list[Cell] = [(numbers.percent_cell(entry[f"{kind}_percent"]), _KIND_COLORS[kind]) for kind in TIME_KINDS]
    if view.show_gil:
        cells.append((numbers.percent_cell(entry["gil_wait_percent"]), _GIL_COLOR))
    cells += [_optional_cell(entry, column, view) for column in view.optional_columns]
    if view.bar_width:
        cells.append(_bar(entry, view))
    return cells


def _optional_cell(entry: dict[str, Any], column: _OptionalColumn, view: _View) -> Cell:
    value = column.of(entry)
    return "" if value is None else column.cell(value, view)


def _bar(entry: dict[str, Any], view: _View) -> Cell:
    """One bar per row, its length the row's share of all time, in one segment per kind."""
    bar: list[Piece] = []
    drawn = 0
    cumulative_percent = 0.0
    for kind in TIME_KINDS:
        cumulative_percent += entry[f"{kind}_percent"]
        # Ends rounded from the running sum, so segments never add up to more than the whole.
        end = min(view.bar_width, round(cumulative_percent / 100 * view.bar_width))
        bar.append((_bar_character(kind, view) * (end - drawn), _KIND_COLORS[kind]))
        drawn = end
    return bar


def _bar_character(kind: str, view: _View) -> str:
    return _COLOR_BAR_CHARACTER if view.color else _PLAIN_BAR_CHARACTERS[kind]


def _sparkline(timeline: list[list[float]], end_s: float, width: int, color: bool) -> str:
    """`width` characters, one per equal slice of the run from 0 to `end_s`, each as high as the
    most memory held during its slice, relative to the most held at all; blank where none."""
    characters = _spark_characters(color)
    peaks = slice_peaks(timeline, end_s, width)
    top_mb = max(peaks)
    if top_mb <= 0:
        return " " * width
    return "".join(
        characters[max(0, math.ceil(mb / top_mb * len(characters)) - 1)] if mb > 0 else " "
        for mb in peaks
    )


def _spark_characters(color: bool) -> str:
    return _COLOR_SPARK_CHARACTERS if color else _PLAIN_SPARK_CHARACTERS


def _legend(doc: dict[str, Any], view: _View) -> RenderableType:
    """Explains the columns the report's tables show (view.shown_headers), and only those: it is
    built last, after every table has noted its columns."""
    rows: list[tuple[Text, RenderableType]] = [
        (Text(KIND_HEADERS[kind], style=_KIND_COLORS[kind]), KIND_LEGENDS[kind])
        for kind in TIME_KINDS
    ]
    rows.append((Text(_GIL_HEADER, style=_GIL_COLOR), _GIL_LEGEND))
    rows.append((Text(_TOTAL_HEADER), _TOTAL_LEGEND))
    for column in (*_OPTIONAL_COLUMNS, _AVG_COLUMN):
        rows.append((Text(column.header), _column_legend(column, view)))
    rows.append((Text(_BAR_HEADER), _bar_legend(view) if view.bar_width else ""))
    rows.append((Text(_LIKELIHOOD_HEADER), _LIKELIHOOD_LEGEND))
    rows.append((Text(_GROWTH_HEADER), _GROWTH_LEGEND))
    columns = Table.grid(padding=(0, 2))
    columns.add_column(no_wrap=True)
    columns.add_column()
    for header, legend in rows:
        if header.plain in view.shown_headers:
            columns.add_row(header, legend)
    memory = has_memory(doc)
    base = f"Percentages are of all Python, native and system time ({numbers.seconds(total_seconds(doc))})"
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
        legend.append(f" {KIND_HEADERS[kind]}, ")
    legend.append(f"one character per {100 / view.bar_width:g}% of the total time")
    return legend
