"""Reading the profile document: the derived numbers reports share, and the reduced view.

The document's definition is docs/profile-format.md. Nothing here measures or calls the engine.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Optional

from . import numbers

# The three kinds of time that make up 100%; GIL wait is reported beside them.
TIME_KINDS = ("python", "native", "system")

REDUCED_MIN_PERCENT = 1.0

# Time threads spent ready to run while every CPU was busy (totals.cpu_wait_s) is named in the
# header when it is at least this share of the threads' time and waits: on an idle machine the
# run queue delays threads by well under 1%, so 5% means other work competed for the CPUs and
# elapsed grew by it; and at least the engine's 10 ms beat, so that a short run stays quiet.
CPU_WAIT_NOTICEABLE_SHARE = 0.05
CPU_WAIT_NOTICEABLE_S = 0.01

# Float percentages can sum to a hair under an exact cut (0.7 + 0.2 + 0.1 == 0.9999999999999999).
_SUM_SLACK_PERCENT = 1e-9

# Binary fractions fall a hair under the decimal they stand for (0.97 * 1000 == 969.999...).
_THOUSANDTHS_SLACK = 1e-9

# Memory a line or function can hold a share of, each against the whole run's figure in `totals`.
_MEMORY_SHARE_FIELDS = ("alloc_mb", "peak_mb", "copy_mb")


# The least peak or lasting MB that puts a line among the top lines by memory: what prints as 0.1.
RANKED_MIN_MB = 0.05


def lasting_mb(entry: dict[str, Any]) -> Optional[float]:
    """The MB a line, function or run allocated that did not go at once: alloc_mb less its
    transient_mb (small blocks freed within about 10 ms, such as the integers of `i += 1`); what
    the reports show and rank as MB allocated. None when memory was not measured."""
    alloc = entry.get("alloc_mb")
    if alloc is None:
        return None
    return max(alloc - (entry.get("transient_mb") or 0.0), 0.0)


def lasting_python_fraction(entry: dict[str, Any]) -> Optional[float]:
    """The share of lasting_mb allocated through Python's allocator (Python objects). None when
    nothing lasted, or memory was not measured."""
    lasting = lasting_mb(entry)
    if not lasting:
        return None
    python = (entry["alloc_mb"] * (entry.get("python_alloc_fraction") or 0.0)
              - (entry.get("transient_python_mb") or 0.0))
    return min(max(python / lasting, 0.0), 1.0)


def allocated_summary(totals: dict[str, Any]) -> str:
    """The run's MB allocated: the volume, its Python share, and how much of it went at once."""
    allocated = numbers.megabytes(totals["alloc_mb"])
    python_fraction = totals.get("python_alloc_fraction")
    if python_fraction is not None:
        allocated += f", {numbers.fraction_percent(python_fraction)} of it through Python's allocator"
    transient = totals.get("transient_mb") or 0.0
    if transient:
        allocated += (f"; {numbers.megabytes(transient)} of it small blocks freed at once (within"
                      " about 10 ms), left out of the lines' alloc MB")
    return allocated


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


def has_gpu(doc: dict[str, Any]) -> bool:
    """Whether the GPU was measured (`gpu.available`): then every GPU field is a number."""
    return bool((doc.get("gpu") or {}).get("available"))


def gpu_note(doc: dict[str, Any]) -> Optional[str]:
    """Why the GPU figures are missing or partial (`gpu.note`), or None."""
    return (doc.get("gpu") or {}).get("note") or None


def gpu_summary(doc: dict[str, Any]) -> str:
    """The header's GPU fact: the device(s), whose utilization it is, the run's figures."""
    gpu = doc["gpu"]
    devices = gpu.get("devices") or []
    named = gpu.get("device") or ", ".join(device["name"] for device in devices) or "a GPU"
    if len(devices) > 1:
        named = f"{len(devices)} devices ({named}), figures summed over them"
    whose = "this program's utilization" if gpu["per_process"] else "the whole device's utilization"
    totals = doc["totals"]
    figures = []
    if totals.get("gpu_percent") is not None:
        figures.append(f"{totals['gpu_percent']:.0f}% busy on average")
    if totals.get("gpu_mem_peak_mb") is not None:
        figures.append(f"peak {numbers.megabytes(totals['gpu_mem_peak_mb'])} of GPU memory")
    return "; ".join([named, whose, *figures])


def lines_by_time(doc: dict[str, Any], limit: int) -> list[tuple[str, dict[str, Any]]]:
    """The `limit` lines with the most Python + native + system time, as (path, line).

    Lines with no time (those that only allocated) are left out.
    """
    timed = [(path, line) for path, line in _lines(doc) if total_percent(line) > 0]
    timed.sort(key=lambda item: (-total_percent(item[1]), item[0], item[1]["line"]))
    return timed[:limit]


def line_count(doc: dict[str, Any]) -> int:
    """How many lines the document lists, over all files."""
    return sum(len(file["lines"]) for file in doc["files"].values())


def lines_by_memory(doc: dict[str, Any], limit: int) -> list[tuple[str, dict[str, Any]]]:
    """The `limit` lines holding the most memory, as (path, line): by peak MB, then MB allocated
    that did not go at once (lasting_mb).

    Lines that neither held nor allocated as much as RANKED_MIN_MB that lasted are left out: a
    line whose blocks all went at once (`i += 1`) held them a moment, nothing a reader can use.
    """
    holding = [
        (path, line)
        for path, line in _lines(doc)
        if (line["peak_mb"] or 0.0) >= RANKED_MIN_MB or (lasting_mb(line) or 0.0) >= RANKED_MIN_MB
    ]
    holding.sort(key=lambda item: (-(item[1]["peak_mb"] or 0.0), -(lasting_mb(item[1]) or 0.0),
                                   item[0], item[1]["line"]))
    return holding[:limit]


def leaking_lines(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Lines suspected of leaking, as (path, line): most likely first, then fastest growing."""
    leaks = [(path, line) for path, line in _lines(doc) if line["leak"] is not None]
    leaks.sort(key=lambda item: (-item[1]["leak"]["likelihood"], -item[1]["leak"]["mb_s"],
                                 item[0], item[1]["line"]))
    return leaks


def likelihood_percent(likelihood: float) -> str:
    """A probability (a leak's likelihood) as a percent to a tenth, truncated, never rounded:
    rounding would turn 0.996 into certainty. 0.996 is "99.6%", 0.9999 "99.9%"; only 1 is "100%"."""
    if likelihood >= 1:
        return "100%"
    # The slack keeps 0.97 (969.99999... thousandths in binary) at 97.0%; min() keeps anything
    # under 1 under 100%.
    tenths = min(math.floor(likelihood * 1000 + _THOUSANDTHS_SLACK), 999)
    return f"{tenths / 10:.1f}%"


def line_source(doc: dict[str, Any], path: Optional[str], number: Optional[int]) -> Optional[str]:
    """The source text of line `number` of `path`, if the document lists that line."""
    file = doc["files"].get(path) if path is not None else None
    for line in file["lines"] if file else []:
        if line["line"] == number:
            return line["source"]
    return None


def slice_peaks(timeline: list[list[float]], end_s: float, width: int) -> list[float]:
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
        part, whole = (lasting_mb(entry), lasting_mb(totals)) if field == "alloc_mb" else (entry[field], totals[field])
        if part and whole:
            shares.append(part / whole * 100)
    return max(shares) + _SUM_SLACK_PERCENT >= REDUCED_MIN_PERCENT


def _lines(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, file in doc["files"].items():
        for line in file["lines"]:
            yield path, line


def noticeable_cpu_wait_s(doc: dict[str, Any]) -> float:
    """totals.cpu_wait_s when it is noticeable (CPU_WAIT_NOTICEABLE_SHARE), else 0."""
    totals = doc["totals"]
    cpu_wait_s = totals.get("cpu_wait_s") or 0.0
    threads_s = total_seconds(doc) + totals["gil_wait_s"] + cpu_wait_s
    if cpu_wait_s >= max(CPU_WAIT_NOTICEABLE_S, CPU_WAIT_NOTICEABLE_SHARE * threads_s):
        return cpu_wait_s
    return 0.0


IDLE_MEANING = ("waiting for work or for another thread (a lock, condition, queue, selector or pipe) in "
                "threads other than the program's main thread; apart from the time (--idle counts it as "
                "system time)")


def idle_s(doc: dict[str, Any]) -> float:
    """totals.idle_s: 0 in a document written before idle waiting was told apart."""
    return doc["totals"].get("idle_s") or 0.0


# The three kinds of time: their column headers and legends, in the text report and the HTML page.
KIND_HEADERS = {"python": "Python", "native": "native", "system": "system"}
KIND_LEGENDS = {
    "python": "time running Python bytecode on the line (and library Python code it called)",
    "native": "time in C code called from the line (NumPy, zlib, any extension module, a builtin such as"
              " sorted); the interpreter's own work to run Python code is Python time",
    "system": "kernel time, and time blocked off the CPU (I/O, sleep, waiting on a lock)",
}
# The legends of the await and idle columns, in the text report and the HTML page alike.
AWAIT_COLUMN_LEGEND = ("seconds asyncio tasks waited on this line's await (the event loop's wait split among the"
                       " tasks waiting at once); a part of the line's system time")
IDLE_COLUMN_LEGEND = ("seconds threads other than the main one waited here for work or for another thread (a"
                      " lock, condition, queue, selector or pipe); not in the percentages (--idle counts it as"
                      " system time)")
AWAIT_MEANING = ("of the system time was asyncio tasks waiting on their awaits, on the await lines (the event "
                 "loop's wait split among the tasks waiting at once)")


def await_s(doc: dict[str, Any]) -> float:
    """totals.await_s: 0 in a document written before await time was told apart."""
    return doc["totals"].get("await_s") or 0.0


def await_summary(doc: dict[str, Any]) -> str:
    return f"{numbers.seconds(await_s(doc))} {AWAIT_MEANING}"


def idle_summary(doc: dict[str, Any]) -> str:
    return f"{numbers.seconds(idle_s(doc))} {IDLE_MEANING}"


def cpu_wait_summary(cpu_wait_s: float) -> str:
    return f"{numbers.seconds(cpu_wait_s)} waiting for a free CPU: the machine was busy; in no line"


def runs_summary(doc: dict[str, Any]) -> Optional[str]:
    """What a document made by `heatline merge` adds up (docs/profile-format.md, "Merged
    documents"); None for the document of one run."""
    runs = doc.get("merged_from")
    if not runs:
        return None
    peak = doc.get("memory_peak")
    highest = f" (the highest: run {peak['run'] + 1}, {runs[peak['run']]['path']})" if peak and "run" in peak else ""
    return (f"{len(runs)} merged by heatline merge: times and MB allocated add up over them, "
            f"peaks are per run{highest}")


def elapsed_summary(doc: dict[str, Any], cpu_wait_s: float) -> str:
    """Elapsed wall-clock time, and the time facts below it added up: one thread's time and
    waits follow one another, so their sum is its elapsed time (less what no clock saw); several
    threads' are summed over threads that may have run at the same time, so theirs is not."""
    elapsed = numbers.seconds(doc["elapsed_s"])
    threads = doc.get("threads", [])
    if not threads:
        return elapsed
    gil_wait_s = doc["totals"]["gil_wait_s"]
    idle = idle_s(doc)
    time_s = total_seconds(doc)
    parts = [f"time {numbers.seconds(time_s)}"]
    if gil_wait_s:
        parts.append(f"GIL wait {numbers.seconds(gil_wait_s)}")
    if idle:
        parts.append(f"idle {numbers.seconds(idle)}")
    if cpu_wait_s:
        parts.append(f"CPU wait {numbers.seconds(cpu_wait_s)}")
    added = " + ".join(parts)
    if len(parts) > 1:
        added += f" = {numbers.seconds(time_s + gil_wait_s + idle + cpu_wait_s)}"
    processes = len(doc.get("processes", [])) or 1
    if len(threads) == 1 and processes == 1:
        return f"{elapsed}; one thread: {added}"
    count = f"{len(threads)} threads"
    if any(thread["tid"] == 0 for thread in threads):  # ended threads past the first 1000, summed
        count = f"more than {len(threads) - 1} threads"
    if processes > 1:
        count += f" in {processes} processes"
    return f"{elapsed}; {count}: {added}, summed over threads that may have run at the same time"
