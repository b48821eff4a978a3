"""`heatline merge`: one profile from the profiles of many runs of the same program (on one host or
many), as docs/profile-format.md ("Merged documents") defines it.

Sums add up: every kind of time, GIL wait, samples, MB allocated and copied, of each line,
function, file, stack and of the totals, with the percentages recomputed. Peaks do not: a
footprint belongs to one run, so the merged totals.peak_mb, timeline and memory_peak are those of
the run that peaked highest, a line's peak_mb, avg_mb and timeline those of the run where that
line peaked highest, and `merged_from` keeps every run's own peak beside its path.

The per-line rules are the ones the processes of one run are merged by (heatline._processes),
reused here: a run is to a merged profile what a process is to a run, except that runs share no
clock (each run's timelines stay in its own seconds) and their elapsed times add up.
"""

from __future__ import annotations

import os
import re
from typing import Any, Optional

from .. import _processes
from .stacks import merge_stacks

# await_s is the part of system_s that asyncio tasks waited on their awaits: added up like it.
TIME_KEYS = ("python_s", "native_s", "system_s", "gil_wait_s", "idle_s", "await_s")
KINDS = ("python_s", "native_s", "system_s")
# Totals that add up over runs, besides the kinds of time and GIL wait.
SUMMED_TOTALS = ("outside_program_s", "cpu_wait_s", "unattributed_cpu_s")


# How a merged document's warning names its run.
RUN_PREFIX = re.compile(r"^run (\d+) \(")


class MergeError(Exception):
    """Documents that cannot be merged; str() is the one line to print."""


def merge_documents(documents: list[dict[str, Any]], paths: list[str]) -> dict[str, Any]:
    """The merged profile of `documents` (loaded from `paths`, in that order): documents of one
    program only. A document that is itself merged brings its own runs into `merged_from`."""
    if len(documents) < 2:
        raise MergeError("merge needs at least two profiles")
    first = documents[0]
    for document, path in zip(documents[1:], paths[1:]):
        if document["program"] != first["program"]:
            raise MergeError(f"{path} profiles {document['program']}, {paths[0]} profiles "
                             f"{first['program']}: heatline merges profiles of one program only")
    runs, processes, threads = _runs(documents, paths)
    peak_index = max(range(len(documents)), key=lambda i: documents[i]["totals"].get("peak_mb") or 0.0)
    highest = documents[peak_index]
    elapsed_s = sum(d["elapsed_s"] for d in documents)

    merged = dict(first)
    merged["elapsed_s"] = elapsed_s
    merged["memory_sampling_rate_bytes"] = next(
        (d["memory_sampling_rate_bytes"] for d in documents if d.get("memory_sampling_rate_bytes") is not None), None)
    merged["samples"] = _summed([d["samples"] for d in documents], first["samples"].keys())
    totals = _totals(documents, highest)
    merged["totals"] = totals
    merged["timeline"] = highest.get("timeline")
    merged["memory_peak"] = _memory_peak(documents, peak_index)
    _gpu(documents, merged, totals, elapsed_s)
    merged["processes"] = processes
    merged["threads"] = threads
    merged["warnings"] = _warnings(documents, paths)
    merged["profiled_functions"] = _profiled_functions(documents)
    if merged["samples"].get("cpu"):
        merged["message"] = None
    total_s = sum(totals[key] for key in KINDS)
    merged["files"] = _processes._merge_files(documents, total_s, elapsed_s, in_run_time=False)
    stacks = merge_stacks(documents, highest)
    if stacks is not None:
        merged["stacks"] = stacks
    merged["merged_from"] = runs
    return merged


def _runs(documents: list[dict[str, Any]], paths: list[str]) -> tuple[list[Any], list[Any], list[Any]]:
    """merged_from, processes and threads: each process and thread names its run (`run`, its
    index in merged_from); a merged input brings its own runs, their indices moved."""
    runs: list[dict[str, Any]] = []
    processes, threads = [], []
    for index, (document, path) in enumerate(zip(documents, paths)):
        offset = _run_offset(documents, index)
        inner = document.get("merged_from")
        runs.extend(inner or [{"path": os.path.abspath(path), "program": document["program"],
                               "argv": document["argv"], "elapsed_s": document["elapsed_s"],
                               "peak_mb": document["totals"].get("peak_mb"),
                               "memory_peak": document.get("memory_peak")}])
        for key, target in (("processes", processes), ("threads", threads)):
            for entry in document.get(key, []):
                target.append(dict(entry, run=offset + (entry.get("run", 0) if inner else 0)))
    return runs, processes, threads


def _warnings(documents: list[dict[str, Any]], paths: list[str]) -> list[str]:
    """Every run's warnings, each prefixed with `run N (PATH): `, N counted from 1 in
    merged_from (a merged input's are so already: their N moves with its runs)."""
    warnings = []
    for index, (document, path) in enumerate(zip(documents, paths)):
        offset = _run_offset(documents, index)
        for warning in document.get("warnings", []):
            if document.get("merged_from"):
                warnings.append(RUN_PREFIX.sub(lambda m: f"run {int(m.group(1)) + offset} (", warning, count=1))
            else:
                warnings.append(f"run {offset + 1} ({os.path.abspath(path)}): {warning}")
    return warnings


def _summed(parts: list[dict[str, Any]], keys: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key in keys:
        result[key] = None
        for part in parts:
            result[key] = _processes._add(result[key], part.get(key))
    return result


def _totals(documents: list[dict[str, Any]], highest: dict[str, Any]) -> dict[str, Any]:
    totals = dict(documents[0]["totals"])
    totals.update(_summed([d["totals"] for d in documents], TIME_KEYS + SUMMED_TOTALS + ("alloc_mb", "transient_mb", "transient_python_mb",
                                                                                "copy_mb")))
    python_mb = sum((d["totals"].get("alloc_mb") or 0.0) * (d["totals"].get("python_alloc_fraction") or 0.0)
                    for d in documents)
    if totals.get("alloc_mb") is not None:
        totals["python_alloc_fraction"] = python_mb / totals["alloc_mb"] if totals["alloc_mb"] > 0 else None
    totals["peak_mb"] = highest["totals"].get("peak_mb")
    return totals


def _memory_peak(documents: list[dict[str, Any]], peak_index: int) -> Optional[dict[str, Any]]:
    """The highest run's memory_peak, with that run's index in merged_from (`run`)."""
    highest = documents[peak_index]
    peak = highest.get("memory_peak")
    if not peak:
        return peak
    inner = peak.get("run", 0) if highest.get("merged_from") else 0
    return dict(peak, run=_run_offset(documents, peak_index) + inner)


def _run_offset(documents: list[dict[str, Any]], index: int) -> int:
    """Where the runs of documents[index] begin in merged_from."""
    return sum(len(d.get("merged_from") or [None]) for d in documents[:index])


def _gpu(documents: list[dict[str, Any]], merged: dict[str, Any], totals: dict[str, Any], elapsed_s: float) -> None:
    """The GPU header of the first run that read one; utilization averaged over the runs by their
    elapsed time; GPU memory, a peak, the highest run's with its timeline."""
    measured = [d for d in documents if (d.get("gpu") or {}).get("available")]
    if not measured:
        return
    merged["gpu"] = dict(measured[0]["gpu"])
    measured_s = sum(d["elapsed_s"] for d in measured)
    totals["gpu_percent"] = (sum((d["totals"].get("gpu_percent") or 0.0) * d["elapsed_s"] for d in measured)
                             / measured_s if measured_s > 0 else 0.0)
    highest = max(measured, key=lambda d: d["totals"].get("gpu_mem_peak_mb") or 0.0)
    totals["gpu_mem_peak_mb"] = highest["totals"].get("gpu_mem_peak_mb")
    merged["gpu"]["timeline"] = highest["gpu"].get("timeline")


def _profiled_functions(documents: list[dict[str, Any]]) -> Optional[list[dict[str, Any]]]:
    """The @profile-decorated functions of every run, each once; None when no run had any."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for document in documents:
        for function in document.get("profiled_functions") or []:
            found.setdefault(tuple(sorted(function.items())), function)
    return list(found.values()) or None
