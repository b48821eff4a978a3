"""HTML report: the profile document as one self-contained page, or a fragment for Jupyter.

Reads only the profile document (docs/profile-format.md), never the engine. This module decides
what is shown and formats what reads better formatted here (the header's facts, leak
likelihoods); assets/report.js builds the tables from the data embedded as JSON and handles
sorting, folding, the reduced-profile toggle and search; assets/flame.js builds the flame graph
from the document's stacks, passed through as compactly as they came; assets/report.css styles
the page.
The output loads nothing: no CDN, no web font, no request of any kind.

Numbers are written as the terminal report writes them (terminal.py's rules, in this module's
number functions); table cells go into the page as numbers already rounded to what is shown (percent and
MB to one decimal; a value above zero that rounds to zero as itself, which the page prints as
"<0.1"), so that the page only has to print them and sorts what it shows.
"""

from __future__ import annotations

import html
import json
import math
import os
import uuid
from collections import Counter
from importlib import resources
from typing import Any, Callable, Optional, TextIO

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
    lasting_mb,
    lasting_python_fraction,
    filter_reduced,
    gpu_note,
    gpu_summary,
    has_gpu,
    has_memory,
    leaking_lines,
    likelihood_percent,
    line_source,
    lines_by_memory,
    noticeable_cpu_wait_s,
    runs_summary,
    slice_peaks,
    total_percent,
    total_seconds,
    visible,
)
from . import numbers
from .stacks import TIME_KEYS, has_memory_values, has_stacks, iter_stacks

# The id of a standalone page's root; a fragment's root gets a unique id, as several may share
# a notebook page. Every selector of report.css begins with this placeholder, replaced by it.
_STANDALONE_ROOT_ID = "heatline-report"
_ROOT_PLACEHOLDER = "#HEATLINE_ROOT"

_TOP_LINES = 10
# Suspected leaks listed at the top; the leak column of the files' tables has every one.
_TOP_LEAKS = 50
# A line's memory sparkline: the most held in each of this many equal slices of the run, each
# as one base-36 digit (0 none, z the line's own highest).
_SPARK_SLICES = 32
_SPARK_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# The footprint chart's points are rounded to this many significant digits.
_CHART_DIGITS = 4



def render_html(doc: dict[str, Any], out: TextIO, *, reduced: bool = False,
                standalone: bool = True) -> None:
    """Write the HTML report of profile document `doc` to `out`, in ASCII (any text stream
    takes it; other characters are escapes).

    reduced: open on the reduced profile (document.filter_reduced); the page can switch
    between it and all lines. Only the @profile-decorated functions are shown when some were
    decorated. standalone: a complete page; otherwise one <div> for a Jupyter notebook, its
    styles scoped under that div's id and its script bound to it.
    """
    root_id = _STANDALONE_ROOT_ID if standalone else f"heatline-{uuid.uuid4().hex[:12]}"
    data = page_data(doc, reduced=reduced)
    css = _asset("report.css").replace(_ROOT_PLACEHOLDER, f"#{root_id}")
    fragment = (
        f'<div id="{root_id}" class="heatline">'
        f"<style>{css}</style>"
        f'<script type="application/json" class="heatline-data">{_script_json(data)}</script>'
        f'<noscript>This report needs JavaScript.</noscript>'
        f"<script>(function () {{\n{_asset('report.js')}\n{_asset('flame.js')}\n"
        # A notebook may run the script from a copy of it inside the root, or from elsewhere
        # (jQuery's eval): the root is the script's ancestor when it has one, else found by id.
        "const script = document.currentScript;\n"
        f'heatlineReport((script && script.closest("#{root_id}")) || document.getElementById("{root_id}"));\n'
        "})();</script>"
        "</div>"
    )
    if not standalone:
        out.write(fragment)
        return
    out.write(
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{html.escape(data['title']).encode('ascii', 'xmlcharrefreplace').decode()}</title>"
        "<style>body { margin: 0; }</style>"
        f"</head><body>{fragment}</body></html>\n"
    )


def page_data(doc: dict[str, Any], *, reduced: bool = False) -> dict[str, Any]:
    """Everything the page shows, as the data report.js builds it from."""
    shown = visible(doc)
    in_reduced = _reduced_members(shown)
    line_columns = _measure_columns(shown)
    memory = has_memory(shown)
    return {
        "title": f"heatline: {os.path.basename(shown['program']) or shown['program']}",
        "program": numbers.shown_path(shown["program"]),
        "args": " ".join(shown["argv"][1:]),
        "facts": _facts(shown),
        "notes": _notes(shown),
        "processes": _processes(shown),
        "footprint": _footprint(shown) if memory else None,
        "gpuFootprint": _gpu_footprint(shown),
        "summaries": _summaries(shown, memory),
        "columns": [{k: v for k, v in column.items() if k != "value"} for column in line_columns],
        "files": [_file(path, file, line_columns, in_reduced)
                  for path, file in sorted(shown["files"].items(),
                                           key=lambda item: (-item[1]["percent"], item[0]))],
        "reduced": reduced,
        "reducedNote": _reduced_note(memory),
        "legend": _legend(shown, line_columns),
        "flame": _flame(doc),
    }


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def _script_json(data: dict[str, Any]) -> str:
    """JSON safe inside a <script> element: no '<' can close it ('\\u003c' in JSON strings is the
    same character). ASCII, like the rest of the page, so that any stream can take it."""
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


# ---- which lines the reduced view keeps ----

def _reduced_members(doc: dict[str, Any]) -> set[tuple[str, str, int]]:
    """(path, "line" or "function", line number) of every entry document.filter_reduced keeps."""
    kept = set()
    for path, file in filter_reduced(doc)["files"].items():
        kept |= {(path, "line", line["line"]) for line in file["lines"]}
        kept |= {(path, "function", function["line"]) for function in file["functions"]}
    return kept


# ---- the columns of the line and function tables ----

def _measure_columns(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The measure columns, in order. Past the three kinds of time, a column is there only where
    some line or function has a value other than zero, as in the terminal report: a field not
    measured (null everywhere: memory under --cpu-only, the GPU without one) has no column, never
    a column of zeros, and neither has one measured as zero everywhere (GIL wait without threads).
    The GPU's columns are there whenever the GPU was measured: an idle GPU is a finding."""
    entries = [entry for file in doc["files"].values()
               for entry in (*file["lines"], *file["functions"])]

    def measured(field: str) -> bool:
        return any(entry.get(field) for entry in entries)

    columns = [
        _column(kind, KIND_HEADERS[kind], "percent", KIND_LEGENDS[kind],
                lambda entry, kind=kind: _shown_number(entry[f"{kind}_percent"], 1))
        for kind in TIME_KINDS
    ]
    if measured("gil_wait_s"):
        columns.append(_column(
            "gil", "GIL wait", "percent",
            "time ready to run Python while another thread held the GIL (beside the total, not in it)",
            lambda entry: _shown_number(entry["gil_wait_percent"], 1)))
    if measured("await_s"):
        columns.append(_column(
            "await", "await s", "mb", AWAIT_COLUMN_LEGEND,
            lambda entry: _shown_number(entry.get("await_s"), 2)))
    if measured("idle_s"):
        columns.append(_column(
            "idle", "idle s", "mb", IDLE_COLUMN_LEGEND,
            lambda entry: _shown_number(entry.get("idle_s"), 2)))
    if measured("alloc_mb"):
        columns += [
            _column("alloc", "alloc MB", "mb",
                    "MB allocated by the line over the run, estimated from samples, less small blocks"
                    " freed at once (within about 10 ms: the integers of `i += 1`), which the header"
                    " counts apart",
                    lambda entry: _shown_number(lasting_mb(entry), 1)),
            _column("pyshare", "py%", "share",
                    "share of alloc MB allocated through Python's allocator (Python objects); the"
                    " rest came from native code, such as the buffers of NumPy arrays",
                    lambda entry: _share(lasting_python_fraction(entry))),
        ]
    if measured("peak_mb"):
        columns.append(_column("peak", "peak MB", "mb",
                               "most memory allocated by the line and live at one time, in MB",
                               lambda entry: _shown_number(entry["peak_mb"], 1)))
    if measured("timeline"):
        columns.append(_column(
            "memory", "memory", "spark",
            "the line's live memory from the start of profiling (left) to its end (right),"
            " scaled to the line's own highest",
            lambda entry: _spark(entry["timeline"], doc["elapsed_s"])))
    if measured("copy_mb_s"):
        columns.append(_column("copy", "copy MB/s", "mb",
                               "MB copied by the line (memcpy and the like) per second of the run",
                               lambda entry: _shown_number(entry["copy_mb_s"], 1)))
    if has_gpu(doc):
        columns += [
            _column("gpu", "GPU", "share", "GPU utilization while the line ran",
                    lambda entry: _whole_percent(entry["gpu_percent"])),
            _column("gpuavg", "GPU avg MB", "mb",
                    "mean GPU memory of the program while the line ran, in MB",
                    lambda entry: _shown_number(entry["gpu_mem_avg_mb"], 1)),
            _column("gpupeak", "GPU peak MB", "mb",
                    "highest GPU memory of the program while the line ran, in MB",
                    lambda entry: _shown_number(entry["gpu_mem_peak_mb"], 1)),
        ]
    if measured("leak"):
        columns.append(_column(
            "leak", "leak", "leak",
            "suspected leak: how likely the line leaks (its live memory kept growing and was not"
            " freed) and how fast it grew, in MB per second",
            lambda entry: _leak(entry["leak"])))
    return columns


def _column(key: str, header: str, kind: str, legend: str,
            value: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    return {"key": key, "header": header, "type": kind, "legend": legend, "value": value}


def _row(number: int, text: str, entry: dict[str, Any], columns: list[dict[str, Any]],
         in_reduced: bool) -> list[Any]:
    """[line number, source or name, each column's value, 1 when the reduced view keeps it]."""
    return [number, text, *(column["value"](entry) for column in columns), 1 if in_reduced else 0]


def _file(path: str, file: dict[str, Any], columns: list[dict[str, Any]],
          in_reduced: set[tuple[str, str, int]]) -> dict[str, Any]:
    file_s = sum(file[f"{kind}_s"] for kind in TIME_KINDS)
    return {
        "path": path,
        "shown": numbers.shown_path(path),
        "summary": f"{numbers.percent(file['percent'])} of the time ({numbers.seconds(file_s)})",
        "lines": [_row(line["line"], line["source"], line, columns,
                       (path, "line", line["line"]) in in_reduced)
                  for line in sorted(file["lines"], key=lambda entry: entry["line"])],
        "functions": [_row(function["line"], function["name"], function, columns,
                           (path, "function", function["line"]) in in_reduced)
                      for function in sorted(file["functions"],
                                             key=lambda entry: (-total_percent(entry), entry["line"]))],
    }


# ---- the header ----

def _facts(doc: dict[str, Any]) -> list[list[str]]:
    totals = doc["totals"]
    cpu_wait_s = noticeable_cpu_wait_s(doc)
    facts = [["elapsed", elapsed_summary(doc, cpu_wait_s)]]
    split = ", ".join(f"{KIND_HEADERS[kind]} {numbers.seconds(totals[f'{kind}_s'])}" for kind in TIME_KINDS)
    facts.append(["time", f"{split}, GIL wait {numbers.seconds(totals['gil_wait_s'])}"])
    if cpu_wait_s:
        facts.append(["CPU wait", cpu_wait_summary(cpu_wait_s)])
    if await_s(doc):
        facts.append(["await", await_summary(doc)])
    if idle_s(doc):
        facts.append(["idle", idle_summary(doc)])
    if totals["outside_program_s"] > 0:
        facts.append(["elsewhere", f"{numbers.seconds(totals['outside_program_s'])} of it on no line of the program"])
    facts.append(["Python", f"{doc['python_version']} (heatline {doc['heatline_version']})"])
    facts.append(["sampling", _sampling(doc)])
    if has_memory(doc):
        facts.append(["peak memory", _memory_peak(doc)])
        facts.append(["allocated", allocated_summary(totals)])
        copied = numbers.megabytes(totals["copy_mb"])
        if totals["copy_mb"] and doc["elapsed_s"] > 0:
            copied += f", {numbers.megabytes(totals['copy_mb'] / doc['elapsed_s'])}/s"
        facts.append(["copied", copied])
    if has_gpu(doc):
        facts.append(["GPU", gpu_summary(doc)])
    processes = doc.get("processes", [])
    runs = runs_summary(doc)
    if runs:
        facts.append(["runs", runs])
    elif len(processes) > 1:
        facts.append(["processes", _process_summary(processes)])
    return facts


def _sampling(doc: dict[str, Any]) -> str:
    samples = doc["samples"]
    text = (f"{samples['cpu']} CPU samples, about one per {numbers.seconds(doc['cpu_sampling_interval_s'])}"
            " of each thread's CPU time")
    if samples["dropped"]:
        text += f" ({samples['dropped']} dropped)"
    rate_bytes = doc["memory_sampling_rate_bytes"]
    if rate_bytes is None:
        return text + "; memory not measured"
    count = samples.get("memory")
    memory = f"{count} memory samples, about" if count is not None else "about"
    text += f"; {memory} one per {numbers.byte_count(rate_bytes)} allocated or copied"
    if samples.get("memory_dropped"):
        text += (f" ({samples['memory_dropped']} lost or untracked, their memory missing from"
                 " some figures)")
    return text


def _memory_peak(doc: dict[str, Any]) -> str:
    peak = doc.get("memory_peak")
    if peak is None:
        return numbers.megabytes(doc["totals"]["peak_mb"])
    text = f"{numbers.megabytes(peak['mb'])} at {numbers.seconds(peak['t_s'])}"
    if peak["file"] is not None:
        text += f", largest share held by {numbers.location(doc, peak['file'], peak['line'])}"
        source = line_source(doc, peak["file"], peak["line"])
        if source is not None:
            text += f"  {source.strip()}"
    return text


def _process_summary(processes: list[dict[str, Any]]) -> str:
    methods = Counter(process.get("start_method") or "unknown" for process in processes[1:])
    how = ", ".join(f"{count} {method}" for method, count in sorted(methods.items()))
    return (f"{len(processes)}: the program (pid {processes[0]['pid']}) and {len(processes) - 1}"
            f" it started ({how}); times and MB allocated add up over them, peaks are per process")


def _processes(doc: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The table of processes, when the run had more than one: pid, parent, how it started (cut
    short: killed while it did work on program lines), CPU, elapsed, peak MB, command."""
    processes = doc.get("processes", [])
    if len(processes) < 2:
        return None
    memory = has_memory(doc)
    working = {pid for file in doc["files"].values()
               for entry in (*file["lines"], *file["functions"]) for pid in entry.get("processes", ())}
    rows = []
    for process in processes:
        method = process.get("start_method") or "heatline"
        if not process.get("complete") and process["pid"] in working:
            method += " (cut short)"
        cpu_s = process.get("cpu_s", 0.0)
        peak = [_shown_number(process.get("peak_mb"), 1)] if memory else []
        rows.append([process["pid"], process.get("ppid"), method, [cpu_s, numbers.seconds(cpu_s)],
                     [process["elapsed_s"], numbers.seconds(process["elapsed_s"])], *peak,
                     " ".join(process.get("argv", []))])
    columns = [("pid", "int"), ("parent", "int"), ("started by", "text"), ("CPU", "measured"),
               ("elapsed", "measured"), *([("peak MB", "mb")] if memory else []), ("command", "source")]
    return {"columns": [{"header": header, "type": kind} for header, kind in columns], "rows": rows}


def _notes(doc: dict[str, Any]) -> list[list[str]]:
    """[kind, text] for the run's message, its warnings, why the GPU was not (fully) measured,
    and what the report leaves out."""
    notes = []
    if doc["message"]:
        notes.append(["message", doc["message"]])
    notes += [["warning", warning] for warning in doc.get("warnings", ())]
    note = gpu_note(doc)
    if note:
        notes.append(["gpu", note])
    decorated = doc.get("profiled_functions")
    if decorated is not None:
        names = ", ".join(function["name"] for function in decorated)
        notes.append(["scope", f"Only functions decorated with @profile are shown: {names}."])
    if not doc["files"] and not doc["message"]:
        notes.append(["scope", "No line of the profiled code to show."])
    return notes


def _reduced_note(memory: bool) -> str:
    if memory:
        return (f"only lines and functions with {REDUCED_MIN_PERCENT:g}% or more of the time, of"
                " the memory allocated, of the peak footprint or of the data copied, and"
                " suspected leaks")
    return f"only lines and functions with {REDUCED_MIN_PERCENT:g}% or more of the time"


# ---- the summary tables and the footprint chart ----

def _summaries(doc: dict[str, Any], memory: bool) -> list[dict[str, Any]]:
    """The top lines by time, by memory, and the suspected leaks: each a small table."""
    lines = [(path, line) for path, file in doc["files"].items() for line in file["lines"]]
    summaries = []
    by_time = sorted((item for item in lines if total_percent(item[1]) > 0),
                     key=lambda item: (-total_percent(item[1]), item[0], item[1]["line"]))[:_TOP_LINES]
    if by_time:
        # (field prefix, header, column key), GIL wait only where some line waited.
        kinds = [(kind, KIND_HEADERS[kind], kind) for kind in TIME_KINDS]
        if any(line["gil_wait_s"] > 0 for _, line in lines):
            kinds.append(("gil_wait", "GIL wait", "gil"))
        summaries.append({
            "title": "Top lines by time",
            "columns": [{"header": "Location", "type": "label"}]
            + [{"header": header, "type": "percent", "key": key} for _, header, key in kinds]
            + [{"header": "Source", "type": "source"}],
            "rows": [[numbers.location(doc, path, line["line"]),
                      *(_shown_number(line[f"{kind}_percent"], 1) for kind, _, _ in kinds),
                      line["source"].strip()] for path, line in by_time],
        })
    if not memory:
        return summaries
    by_memory = lines_by_memory(doc, _TOP_LINES)
    if by_memory:
        summaries.append({
            "title": "Top lines by memory (peak MB, then alloc MB)",
            "columns": [{"header": "Location", "type": "label"}, {"header": "alloc MB", "type": "mb"},
                        {"header": "py%", "type": "share"}, {"header": "peak MB", "type": "mb"},
                        {"header": "avg MB", "type": "mb"}, {"header": "Source", "type": "source"}],
            "rows": [[numbers.location(doc, path, line["line"]), _shown_number(lasting_mb(line), 1),
                      _share(lasting_python_fraction(line)), _shown_number(line["peak_mb"], 1),
                      _shown_number(line["avg_mb"], 1), line["source"].strip()]
                     for path, line in by_memory],
        })
    leaks = leaking_lines(doc)
    if leaks:
        summaries.append({
            "title": "Suspected memory leaks: live memory of these lines kept growing",
            "alarm": True,
            "columns": [{"header": "Location", "type": "label"}, {"header": "leak", "type": "leak"},
                        {"header": "Source", "type": "source"}],
            "rows": [[numbers.location(doc, path, line["line"]), _leak(line["leak"]), line["source"].strip()]
                     for path, line in leaks[:_TOP_LEAKS]],
            "more": (f"and {len(leaks) - _TOP_LEAKS} more, most likely first above: the leak column"
                     " of each file's table shows them all") if len(leaks) > _TOP_LEAKS else None,
        })
    return summaries


def _footprint(doc: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The footprint over the run, and its peak, for the chart; None without a timeline."""
    timeline = doc["timeline"]
    if not timeline:
        return None
    peak = doc.get("memory_peak")
    marked = None
    if peak is not None:
        marked = {"t": _significant(peak["t_s"]), "mb": _significant(peak["mb"]),
                  "label": f"peak {_memory_peak(doc)}"}
    return _chart(doc, timeline, "Memory footprint over time", "memory footprint over time", marked)


def _gpu_footprint(doc: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The program's GPU memory over the run (`gpu.timeline`), for a second chart; None when
    the GPU was not measured or the document has no GPU timeline."""
    timeline = (doc.get("gpu") or {}).get("timeline")
    if not has_gpu(doc) or not timeline:
        return None
    return _chart(doc, timeline, "GPU memory over time", "GPU memory of the program over time", None)


def _chart(doc: dict[str, Any], timeline: list[list[float]], title: str, label: str,
           peak: Optional[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": title,
        "label": label,
        "points": [[_significant(t_s), _significant(mb)] for t_s, mb in timeline],
        "end": _significant(max(doc["elapsed_s"], timeline[-1][0])),
        "top": numbers.megabytes(max(mb for _, mb in timeline)),
        "elapsed": numbers.seconds(doc["elapsed_s"]),
        "peak": peak,
    }


def _spark(timeline: Optional[list[list[float]]], end_s: float) -> Optional[str]:
    """The most held in each of _SPARK_SLICES equal slices of the run (document.slice_peaks),
    one base-36 digit each against the line's own highest; None when the line held nothing."""
    if not timeline:
        return None
    peaks = slice_peaks(timeline, end_s, _SPARK_SLICES)
    top_mb = max(peaks)
    if top_mb <= 0:
        return None
    top_digit = len(_SPARK_DIGITS) - 1
    return "".join(_SPARK_DIGITS[math.ceil(mb / top_mb * top_digit)] if mb > 0 else "0" for mb in peaks)


def _legend(doc: dict[str, Any], columns: list[dict[str, Any]]) -> list[list[str]]:
    legend = [[column["header"], column["legend"]] for column in columns]
    legend.append(["time", "the line's Python, native and system time, as long as its share of the"
                          " busiest line's; a red bar beneath it is GIL wait on the same scale"])
    note = f"Percentages are of all Python, native and system time ({numbers.seconds(total_seconds(doc))})"
    if any(column["key"] == "gil" for column in columns):
        note += "; GIL wait is measured against the same total but is not part of it"
    legend.append(["", note + "."])
    if has_memory(doc):
        legend.append(["", "Memory figures are estimates from the memory samples; 1 MB is 2^20 bytes."])
    return legend


# ---- the flame graph ----

# A stack's values go into the page to this many decimals: to the microsecond, and to the byte.
_FLAME_DECIMALS = 6
# The flame graph's views: (key, button, its title, what a width is a share of, unit, the stack
# values it sums). GIL wait is a view only when some thread waited, memory ones only when memory
# was measured.
_FLAME_VIEWS = (
    ("time", "time", "Python, native and system time", "the time (Python, native and system)", "s",
     TIME_KEYS),
    ("gil", "GIL wait", "time ready to run Python while another thread held the GIL", "the GIL wait", "s",
     ("gil_wait_s",)),
    ("alloc", "allocated MB", "MB allocated, freed or not", "the memory allocated", "MB", ("alloc_mb",)),
    ("peak", "memory at the peak", "MB allocated and still live when the footprint peaked",
     "the memory live at the peak", "MB", ("peak_mb",)),
)


def _flame(doc: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The document's stacks for flame.js, which builds the call tree from them; None when the
    document has none (one written before stacks existed).

    Tables, each entry once: `files` (shown paths), `functions` [name, file index or -1, first
    line, 1 when the program's], `frames` [function index, line]. Then `stacks`, sorted by their
    frames, each [how many outer frames it shares with the stack before it, its values (in the
    order of `keys`, to _FLAME_DECIMALS decimals), the frame indices after those]: a
    stack mostly repeats its neighbour's outer frames, which then are not written again. Stacks
    with nothing to show are left out."""
    if not has_stacks(doc):
        return None
    keys = [*TIME_KEYS, "gil_wait_s", *(("alloc_mb", "peak_mb") if has_memory_values(doc) else ())]
    files: dict[str, int] = {}
    functions: dict[tuple[Any, ...], int] = {}
    frames: dict[tuple[int, Optional[int]], int] = {}
    # iter_stacks hands out the document's own frame objects, so each is looked up once.
    interned: dict[int, int] = {}

    def intern(frame: dict[str, Any]) -> int:
        index = interned.get(id(frame))
        if index is None:
            file = -1 if frame["file"] is None else files.setdefault(frame["file"], len(files))
            function = functions.setdefault(
                (frame["function"], file, frame["first_line"], 1 if frame["program"] else 0), len(functions))
            index = interned[id(frame)] = frames.setdefault((function, frame["line"]), len(frames))
        return index

    stacks = []
    for stack in iter_stacks(doc):
        values = [stack.value(key) for key in keys]
        if any(values):
            stacks.append(([intern(frame) for frame in stack.frames], values))
    stacks.sort(key=lambda item: item[0])
    encoded, before = [], []
    for path, values in stacks:
        shared, most = 0, min(len(path), len(before))
        while shared < most and path[shared] == before[shared]:
            shared += 1
        encoded.append([shared, *(round(value, _FLAME_DECIMALS) if value else 0 for value in values),
                        *path[shared:]])
        before = path
    totals = {key: sum(values[i] for _, values in stacks) for i, key in enumerate(keys)}
    views = [{"key": key, "label": label, "legend": legend, "of": share_of, "unit": unit,
              "values": [keys.index(value_key) for value_key in value_keys]}
             for key, label, legend, share_of, unit, value_keys in _FLAME_VIEWS
             if key == "time" or (all(value_key in keys for value_key in value_keys)
                                  and any(totals[value_key] for value_key in value_keys))]
    return {
        "keys": keys,
        "views": views,
        "files": [numbers.shown_path(path) for path in files],
        "functions": [list(function) for function in functions],
        "frames": [list(frame) for frame in frames],
        "stacks": encoded,
    }


# ---- numbers, as the terminal report writes them ----

def _shown_number(value: Optional[float], decimals: int) -> Optional[float]:
    """`value` rounded to what is shown with `decimals` decimals. A value above zero that rounds
    to zero keeps two significant digits, so that the page prints it as "<0.1" (and sorts it)."""
    if value is None:
        return None
    rounded = round(value, decimals)
    if rounded == 0 and value != 0:
        return _significant(value, 2)
    return rounded


def _significant(value: float, digits: int = _CHART_DIGITS) -> float:
    return float(f"{value:.{digits}g}")


def _share(fraction: Optional[float]) -> Optional[int]:
    """A 0..1 fraction as a whole percent, rounded like the terminal's "{:.0f}"."""
    return None if fraction is None else int(f"{fraction * 100:.0f}")


def _whole_percent(value: Optional[float]) -> Optional[int]:
    return None if value is None else int(f"{value:.0f}")


def _leak(leak: Optional[dict[str, Any]]) -> Optional[list[Any]]:
    """[likelihood for sorting, likelihood as shown, MB/s as shown]."""
    if leak is None:
        return None
    return [leak["likelihood"], likelihood_percent(leak["likelihood"]), numbers.rate(leak["mb_s"])]

