"""The processes of one run: how children learn they are profiled, where their documents go, and
how the documents become the one profile the user gets.

The run's first process (the `heatline` command, or a program calling `heatline.start()`)
makes a private directory (mode 0700, an unpredictable name) and names it, with the run's
options, in the environment variable HEATLINE_RUN, and puts heatline/_hook first on PYTHONPATH.
Every Python process started below it imports that folder's sitecustomize as it starts, which
starts its profiling (heatline._child), or is forked from a profiled one (heatline._session's
at-fork hook); the engine then writes that process's document into the
directory as PID.json: at its first beat, every second while it runs, and at its end (C:
session.c). When the first process stops, it reads the directory, merges every document into
its own (`merge`) and removes the directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from typing import Any, Iterable, Optional


ENV = "HEATLINE_RUN"
DIR_PREFIX = "heatline-run-"
# A line's time and waits: what its GPU readings are weighted by.
TIME_KEYS = ("python_s", "native_s", "system_s", "gil_wait_s", "idle_s")
# Added up over processes: those, and await_s, the part of system_s that asyncio tasks waited on
# their awaits.
SUMMED_KEYS = TIME_KEYS + ("await_s",)
# The seconds that have a share of the time beside them (idle waiting is apart from the time).
PERCENT_KEYS = ("python_s", "native_s", "system_s", "gil_wait_s")
KINDS = ("python_s", "native_s", "system_s")


# ---- the run's directory and its environment variable ---------------------------------------

# The folder whose sitecustomize.py starts each Python process of a run (heatline/_hook).
HOOK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_hook")


class Run:
    """The children's side of a run, held by its first process."""

    def __init__(self, spec: dict[str, Any], previous_env: dict[str, Optional[str]]) -> None:
        self.spec = spec
        self.previous_env = previous_env

    @property
    def directory(self) -> str:
        return str(self.spec["dir"])


def begin(options: dict[str, Any], program_dirs: list[str], program: str, run_start_ns: int) -> Run:
    """Makes the run's directory and tells children about it through the environment."""
    remove_abandoned()
    directory = tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-")
    spec = {"dir": directory, "run_start_ns": run_start_ns, "options": options,
            "program_dirs": list(program_dirs), "program": program}
    previous = {name: os.environ.get(name) for name in (ENV, "PYTHONPATH")}
    os.environ[ENV] = json.dumps(spec)
    path = previous["PYTHONPATH"]
    os.environ["PYTHONPATH"] = HOOK_DIR + (os.pathsep + path if path else "")
    return Run(spec, previous)


def end(run: Run) -> list[dict[str, Any]]:
    """The children's documents (by start), then the directory removed and the variable unset."""
    documents = collect(run.directory)
    shutil.rmtree(run.directory, ignore_errors=True)
    for name, value in run.previous_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return documents


def collect(directory: str) -> list[dict[str, Any]]:
    """Every child's document now in the directory (the latest of each), earliest start first."""
    documents = []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as file:
                document = json.load(file)
        except (OSError, ValueError):
            continue  # renamed into place whole, so only a vanished file lands here
        if isinstance(document, dict) and document.get("processes"):
            documents.append(document)
    documents.sort(key=lambda d: (d["processes"][0].get("start_s") or 0.0, d["processes"][0]["pid"]))
    return documents


def remove_abandoned() -> None:
    """Directories left by a first process that died before it could remove its own."""
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if not name.startswith(DIR_PREFIX):
            continue
        path = os.path.join(base, name)
        try:
            pid = int(name[len(DIR_PREFIX):].split("-", 1)[0])
            if os.stat(path).st_uid != os.getuid():
                continue
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, OSError):
            continue


def child_spec() -> Optional[dict[str, Any]]:
    """The run this process belongs to, from the environment; None when it is not profiled."""
    text = os.environ.get(ENV)
    if not text:
        return None
    try:
        spec = json.loads(text)
        if not (isinstance(spec, dict) and os.path.isdir(spec["dir"])
                and isinstance(spec["options"], dict) and isinstance(spec["run_start_ns"], int)):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    return spec


def exec_start_method(argv: list[str]) -> str:
    """How a process that started a new interpreter was started, from its command line."""
    text = " ".join(argv)
    if "--multiprocessing-fork" in argv:
        return "spawn"
    if "multiprocessing.forkserver" in text:
        return "forkserver"
    if "multiprocessing.resource_tracker" in text:
        return "resource_tracker"
    return "exec"


def command_line() -> list[str]:
    try:
        with open("/proc/self/cmdline", "rb") as file:
            return [part.decode(errors="replace") for part in file.read().split(b"\0")[:-1]]
    except OSError:
        return []


def default_sigterm(handler: Any) -> None:
    """In a forked child: the first process's SIGTERM handler (which writes the report) is not
    the child's; the default action comes back, and the engine holds it until its document is
    written (session.c)."""
    try:
        if signal.getsignal(signal.SIGTERM) is handler:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError):
        pass


# ---- one profile from many documents ------------------------------------------------------

def _add(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _shifted(timeline: Optional[list[list[float]]], start_s: float) -> Optional[list[list[float]]]:
    if timeline is None or not start_s:
        return timeline
    return [[t + start_s, mb] for t, mb in timeline]


def _entry_seconds(entry: dict[str, Any]) -> float:
    return sum(entry.get(key, 0) for key in TIME_KEYS)


def _weighted(a: Optional[float], a_s: float, b: Optional[float], b_s: float) -> Optional[float]:
    """The mean of two readings weighted by their seconds; either may be missing (None)."""
    if a is None or b is None:
        return a if b is None else b
    return (a * a_s + b * b_s) / (a_s + b_s) if a_s + b_s > 0 else max(a, b)


def _merge_gpu(documents: list[dict[str, Any]], merged: dict[str, Any], totals: dict[str, Any]) -> None:
    """The GPU of a run: the header of the first process that read one; utilization summed over
    the processes when each read its own share, the device-wide figure otherwise; this
    process's GPU memory, like memory, per process: the highest peak and its timeline."""
    measured = [d for d in documents if (d.get("gpu") or {}).get("available")]
    if not measured:
        return
    first = measured[0]
    merged["gpu"] = dict(first["gpu"])
    elapsed_s = documents[0].get("elapsed_s") or 0.0
    if first["gpu"].get("per_process") and elapsed_s > 0:
        totals["gpu_percent"] = sum((d["totals"].get("gpu_percent") or 0.0) * (d.get("elapsed_s") or 0.0)
                                    for d in measured) / elapsed_s
    else:
        totals["gpu_percent"] = max((d["totals"].get("gpu_percent") or 0.0) for d in measured)
    highest = max(measured, key=lambda d: d["totals"].get("gpu_mem_peak_mb") or 0.0)
    totals["gpu_mem_peak_mb"] = highest["totals"].get("gpu_mem_peak_mb")
    start_s = highest["processes"][0].get("start_s") or 0.0
    merged["gpu"]["timeline"] = _shifted(highest["gpu"].get("timeline"), start_s)


class _Entry:
    """One line (or function) of one file, summed over the processes that ran it."""

    def __init__(self, first: dict[str, Any], pids: Iterable[int], start_s: float) -> None:
        self.fields = dict(first)
        self.fields["timeline"] = _shifted(first.get("timeline"), start_s)
        self.pids = set(pids)
        self.seconds = _entry_seconds(first)
        self.alloc_python_mb = (first.get("alloc_mb") or 0.0) * (first.get("python_alloc_fraction") or 0.0)

    def add(self, other: dict[str, Any], pids: Iterable[int], start_s: float) -> None:
        f = self.fields
        self.pids.update(pids)
        for key in SUMMED_KEYS:
            f[key] = f.get(key, 0) + other.get(key, 0)
        self.alloc_python_mb += (other.get("alloc_mb") or 0.0) * (other.get("python_alloc_fraction") or 0.0)
        f["alloc_mb"] = _add(f.get("alloc_mb"), other.get("alloc_mb"))
        for key in ("transient_mb", "transient_python_mb"):
            f[key] = _add(f.get(key), other.get(key))
        f["copy_mb"] = _add(f.get("copy_mb"), other.get("copy_mb"))
        # Peak figures are per process: the line's, in the process where it peaked highest.
        if (other.get("peak_mb") or 0.0) > (f.get("peak_mb") or 0.0):
            for key in ("peak_mb", "avg_mb"):
                f[key] = other.get(key)
            f["timeline"] = _shifted(other.get("timeline"), start_s)
        leak = other.get("leak")
        if leak and (not f.get("leak") or leak.get("likelihood", 0) > f["leak"].get("likelihood", 0)):
            f["leak"] = leak
        # The GPU while the line ran: averages weighted by the line's time in each process, the
        # memory peak per process (the highest).
        mine, theirs = self.seconds, _entry_seconds(other)
        for key in ("gpu_percent", "gpu_mem_avg_mb"):
            f[key] = _weighted(f.get(key), mine, other.get(key), theirs)
        if (other.get("gpu_mem_peak_mb") or 0.0) > (f.get("gpu_mem_peak_mb") or 0.0):
            f["gpu_mem_peak_mb"] = other["gpu_mem_peak_mb"]
        self.seconds = mine + theirs

    def finish(self, total_s: float, elapsed_s: float) -> dict[str, Any]:
        f = self.fields
        for key in PERCENT_KEYS:
            f[key[:-2] + "_percent"] = f[key] / total_s * 100 if total_s > 0 else 0
        if f.get("alloc_mb") is not None:
            f["python_alloc_fraction"] = self.alloc_python_mb / f["alloc_mb"] if f["alloc_mb"] > 0 else None
        if f.get("copy_mb") is not None:
            f["copy_mb_s"] = f["copy_mb"] / elapsed_s if elapsed_s > 0 else 0
        f["processes"] = sorted(self.pids)
        return f


def _merge_files(documents: Iterable[dict[str, Any]], total_s: float, elapsed_s: float,
                 in_run_time: bool = True) -> dict[str, Any]:
    """The files of `documents` summed (see merge). A line keeps the pids it names (a document of
    one process names its own); with in_run_time, timelines move to the first process's clock
    by each document's start_s, otherwise each stays on its own document's clock (heatline
    merge: runs have no common clock)."""
    files: dict[str, dict[str, Any]] = {}
    for document in documents:
        process = document["processes"][0]
        pid, start_s = process["pid"], (process.get("start_s") or 0.0) if in_run_time else 0.0
        for path, data in document.get("files", {}).items():
            merged = files.setdefault(path, {"lines": {}, "functions": {}, "sums": dict.fromkeys(SUMMED_KEYS, 0.0)})
            for key in SUMMED_KEYS:
                merged["sums"][key] += data.get(key, 0)
            for key, items in (("lines", data.get("lines", [])), ("functions", data.get("functions", []))):
                table = merged[key]
                for item in items:
                    ident = item["line"] if key == "lines" else (item["name"], item["line"])
                    pids = item.get("processes") or [pid]
                    if ident in table:
                        table[ident].add(item, pids, start_s)
                    else:
                        table[ident] = _Entry(item, pids, start_s)
    result = {}
    for path, merged in files.items():
        lines = [entry.finish(total_s, elapsed_s) for _, entry in sorted(merged["lines"].items())]
        functions = sorted((entry.finish(total_s, elapsed_s) for entry in merged["functions"].values()),
                           key=lambda f: (f["line"], f["name"]))
        sums = merged["sums"]
        percent = sum(sums[key] for key in KINDS) / total_s * 100 if total_s > 0 else 0
        result[path] = {"percent": percent, **sums, "lines": lines, "functions": functions}
    return dict(sorted(result.items(), key=lambda item: (-item[1]["percent"], item[0])))


def _did_work(document: dict[str, Any]) -> bool:
    """Whether a process measured anything on the program's lines (the writer lists only files
    that did; multiprocessing's own helpers, such as the resource tracker, outlive the run
    without any)."""
    return bool(document.get("files"))


def merge(first: dict[str, Any], children: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's profile: `first`'s document with every child's added in. Times, allocation and
    copy volumes add up; peak figures stay per process (the highest); each line says which
    processes ran it; `processes` lists every process, `threads` every thread with its pid."""
    documents = [first] + children
    merged = dict(first)
    totals = dict(first["totals"])
    for child in children:
        t = child["totals"]
        for key in SUMMED_KEYS + ("outside_program_s", "cpu_wait_s", "unattributed_cpu_s"):
            totals[key] = totals.get(key, 0) + t.get(key, 0)
        for key in ("alloc_mb", "transient_mb", "transient_python_mb", "copy_mb"):
            totals[key] = _add(totals.get(key), t.get(key))
    python_mb = sum((d["totals"].get("alloc_mb") or 0) * (d["totals"].get("python_alloc_fraction") or 0)
                    for d in documents)
    if totals.get("alloc_mb") is not None:
        totals["python_alloc_fraction"] = python_mb / totals["alloc_mb"] if totals["alloc_mb"] > 0 else None
    highest = max(documents, key=lambda d: d["totals"].get("peak_mb") or 0.0)
    totals["peak_mb"] = highest["totals"].get("peak_mb")
    merged["totals"] = totals
    _merge_gpu(documents, merged, totals)
    if highest is not first:
        start_s = highest["processes"][0].get("start_s") or 0.0
        merged["timeline"] = _shifted(highest.get("timeline"), start_s)
        peak = highest.get("memory_peak")
        merged["memory_peak"] = dict(peak, t_s=peak["t_s"] + start_s) if peak else peak
    if merged.get("memory_peak"):
        merged["memory_peak"] = dict(merged["memory_peak"], pid=highest["processes"][0]["pid"])
    samples = dict(first["samples"])
    for child in children:
        for key, value in child["samples"].items():
            samples[key] = _add(samples.get(key), value)
    merged["samples"] = samples
    merged["processes"] = [dict(d["processes"][0]) for d in documents]
    merged["threads"] = [dict(thread, pid=d["processes"][0]["pid"]) for d in documents for thread in d["threads"]]
    warnings = list(first.get("warnings", []))
    for child in children:
        process = child["processes"][0]
        prefix = f"process {process['pid']}: "
        warnings.extend(prefix + warning for warning in child.get("warnings", []))
        if not process.get("complete") and _did_work(child):
            warnings.append(prefix + "its last document was written while it ran (it was killed, or was still "
                            "running when the run ended): up to its last second may be missing")
    merged["warnings"] = warnings
    total_s = sum(totals[key] for key in KINDS)
    merged["files"] = _merge_files(documents, total_s, first.get("elapsed_s") or 0.0)
    from .report.stacks import merge_stacks  # here: a run without children never needs it

    merged["stacks"] = merge_stacks(documents, highest)
    if children and first.get("message") and samples.get("cpu"):
        merged["message"] = None
    return merged
