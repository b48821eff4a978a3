"""Fixtures for heatline's end-to-end tests: run the heatline command (or a program under plain
python) and read the profile document it writes.

The command is the one installed beside the interpreter running the tests, so the tests check
the heatline in the virtual environment they run in. Programs with known truth live in
tests/programs/; a line they measure carries a `# line: NAME` marker that tests look up.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import itertools
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HEATLINE = Path(sys.executable).parent / "heatline"
PROGRAMS = Path(__file__).resolve().parent / "programs"
SCHEMA = "heatline-profile/1"

# Every program here runs for a few seconds at most: this limit catches a hang, not a slow run.
RUN_TIMEOUT_S = 120
# The writer rounds each number it writes; a total and the sum of its parts (or a percent and
# the seconds it is computed from) may differ by that rounding, and by no more than this.
SUM_RELATIVE_TOLERANCE = 0.01
SUM_ABSOLUTE_TOLERANCE_S = 0.01
PERCENT_TOLERANCE_POINTS = 0.05
# Seconds of a line against what the program measured around it: a 0.2-1 s line gets 40-200
# samples at the default 5 ms, one per stratum of CPU time, so a few either way plus the line's
# edges; the clocks scale the samples to each thread's CPU time.
LINE_SECONDS_RELATIVE_MARGIN = 0.2
LINE_SECONDS_ABSOLUTE_MARGIN_S = 0.03

# Memory samples of n allocations of s bytes each, at a sampling rate of R bytes: each is
# sampled with probability p = 1 - exp(-s / R), so the count is binomial (mean n p, standard
# deviation sqrt(n p (1 - p))), and each sample weighs s / p. Five standard deviations: a false
# alarm in about 1.7 million runs.
MEMORY_SAMPLES_SIGMAS = 5
MB = 1 << 20

# The seconds of every line, function, file, thread, stack and of the totals; all but idle_s
# (apart from the time, like GIL wait, but with no percent) and await_s (the part of system_s
# that asyncio tasks waited on their awaits) have a percent beside them in lines.
COUNTERS = ("python_s", "native_s", "system_s", "gil_wait_s", "idle_s", "await_s")
PERCENT_COUNTERS = ("python_s", "native_s", "system_s", "gil_wait_s")
LINE_KEYS = {
    "line", "source", *COUNTERS,
    "python_percent", "native_percent", "system_percent", "gil_wait_percent",
    "alloc_mb", "python_alloc_fraction", "transient_mb", "transient_python_mb", "peak_mb", "avg_mb",
    "timeline", "copy_mb", "copy_mb_s", "gpu_percent", "gpu_mem_avg_mb", "gpu_mem_peak_mb", "leak", "processes",
}
PROCESS_KEYS = {"pid", "ppid", "argv", "start_method", "start_s", "elapsed_s", "cpu_s", "peak_mb", "complete"}
FUNCTION_KEYS = (LINE_KEYS - {"line", "source"}) | {"name", "line"}
TOTALS_KEYS = {*COUNTERS, "outside_program_s", "unattributed_cpu_s", "alloc_mb", "python_alloc_fraction",
               "transient_mb", "transient_python_mb", "peak_mb", "copy_mb", "gpu_percent"}
TOP_LEVEL_KEYS = {
    "schema", "program", "argv", "python_version", "heatline_version", "elapsed_s",
    "cpu_sampling_interval_s", "memory_sampling_rate_bytes", "gpu", "samples", "message",
    "totals", "timeline", "memory_peak", "processes", "threads", "profiled_functions", "warnings",
    "files", "stacks",
}
STACK_FRAME_KEYS = {"function", "file", "line", "first_line", "program"}
STACK_KEYS = {"frames", "samples", *COUNTERS, "alloc_mb", "copy_mb", "peak_mb"}

MARKER = re.compile(r"#\s*line:\s*([\w-]+)")
# A frame of heatline's own package in a traceback: a file of the installed package, or of the
# source tree's src/heatline (a checkout's own folder may well be called heatline too, and a
# program of tests/programs in it is not heatline's frame).
HEATLINE_FRAME = re.compile(
    r'File "(?:' + re.escape(os.path.dirname(importlib.util.find_spec("heatline").origin) + os.sep)
    + r'|[^"]*[/\\]src[/\\]heatline[/\\])')


def marked_lines(program: Path) -> dict[str, int]:
    """The line numbers of a program's `# line: NAME` markers, by NAME."""
    found = {}
    for number, text in enumerate(Path(program).read_text().splitlines(), start=1):
        match = MARKER.search(text)
        if match:
            found[match.group(1)] = number
    return found


def time_s(counters: dict) -> float:
    """python + native + system seconds: the time the percentages are shares of."""
    return counters["python_s"] + counters["native_s"] + counters["system_s"]


def cpu_s(counters: dict) -> float:
    """python + native seconds: time on a CPU in user code."""
    return counters["python_s"] + counters["native_s"]


def _check_transient(entry: dict) -> None:
    """What went at once is part of what was allocated, its Python part part of that and of the
    Python-allocated MB (all None under --cpu-only)."""
    slack = lambda mb: mb * (1 + 1e-6) + 1e-6  # noqa: E731 - rounding of the written figures
    alloc, transient, python = entry["alloc_mb"], entry["transient_mb"], entry["transient_python_mb"]
    assert (transient is None) == (alloc is None) == (python is None), entry
    if alloc is None:
        return
    assert 0 <= python <= slack(transient) and transient <= slack(alloc), entry
    assert python <= slack(alloc * (entry["python_alloc_fraction"] or 0.0)), entry


def close(measured: float, expected: float) -> bool:
    return math.isclose(measured, expected, rel_tol=SUM_RELATIVE_TOLERANCE,
                        abs_tol=SUM_ABSOLUTE_TOLERANCE_S)


def assert_seconds_match(measured: float, truth: float, what: str) -> None:
    """measured: python + native + system seconds of a line (or thread); truth: the program's
    time.thread_time() around it, which counts user and kernel CPU time (a CPU-bound line waits
    for nothing else, and GIL wait is counted apart)."""
    margin = LINE_SECONDS_RELATIVE_MARGIN * truth + LINE_SECONDS_ABSOLUTE_MARGIN_S
    assert abs(measured - truth) <= margin, (
        f"{what}: profiled {measured:.3f} s, measured {truth:.3f} s")


def assert_samples_fit_interval(profile: "Profile", interval_s: float) -> None:
    """The CPU samples of a profile taken every `interval_s` of each thread's CPU time.

    The engine arms a thread's timer once per stratum of `interval_s` of its CPU time, so a
    thread takes at most one sample per stratum it began: that bound is exact, and is what
    tells one interval from another (the default of 5 ms would take 4 times as many as 20 ms).
    A late signal takes fewer: the kernel checks a thread's CPU timer only at the ticks that
    find it running, and on a loaded machine many do not, so a thread can run past a whole
    stratum unseen (15 strata gave 11 samples here with both cores busy). The lower bound is
    therefore only a guard against an interval several times longer than asked for."""
    samples = profile["samples"]["cpu"]
    threads = [t for t in profile["threads"] if time_s(t) > 0]
    most = sum(math.floor(time_s(t) / interval_s) + 1 for t in threads)
    least = cpu_s(profile["totals"]) / (4 * interval_s)
    assert least <= samples <= most, (profile["samples"], least, most)


def assert_memory_samples_match(profile: "Profile", count: int, object_bytes: int,
                                rate_bytes: int) -> None:
    """The line marked `objects` of small_objects.py made `count` allocations of
    `object_bytes`: its number of samples (its MB over the weight of one) and the session's are
    what the rate gives, within MEMORY_SAMPLES_SIGMAS standard deviations."""
    sampled = 1 - math.exp(-object_bytes / rate_bytes)
    expected = count * sampled
    margin = MEMORY_SAMPLES_SIGMAS * math.sqrt(count * sampled * (1 - sampled))
    line = profile.marked(PROGRAMS / "small_objects.py", "objects")
    assert line is not None and line["alloc_mb"] is not None, line
    samples = line["alloc_mb"] * MB / (object_bytes / sampled)
    assert abs(samples - expected) <= margin, (
        f"{samples:.1f} samples of the line at {rate_bytes} bytes, {expected:.1f} expected "
        f"(+-{margin:.1f})")
    assert samples - 0.5 <= profile["samples"]["memory"], profile["samples"]


def assert_no_heatline_traceback(stderr: str, program_raises: bool = False) -> None:
    """No traceback at all unless the program raises; never a frame of heatline's own code."""
    if not program_raises:
        assert "Traceback" not in stderr, stderr
    assert not HEATLINE_FRAME.search(stderr), stderr


class Profile:
    """A profile document, with the look-ups the tests need."""

    def __init__(self, document: dict) -> None:
        self.document = document

    def __getitem__(self, key: str):
        return self.document[key]

    @property
    def total_s(self) -> float:
        return time_s(self.document["totals"])

    def file(self, path: Path | str) -> dict | None:
        wanted = os.path.realpath(path)
        for key, entry in self.document["files"].items():
            if os.path.realpath(key) == wanted:
                return entry
        return None

    def line(self, path: Path | str, number: int) -> dict | None:
        entry = self.file(path)
        for line in entry["lines"] if entry else ():
            if line["line"] == number:
                return line
        return None

    def marked(self, program: Path, name: str) -> dict | None:
        """The entry of the line marked `# line: NAME` in program, or None if it is absent."""
        return self.line(program, marked_lines(program)[name])

    def function(self, path: Path | str, name: str) -> dict | None:
        entry = self.file(path)
        for function in entry["functions"] if entry else ():
            if function["name"] == name:
                return function
        return None

    def thread(self, ids: set[int]) -> dict | None:
        """The thread entry whose tid is one of ids (a thread's ident or native id)."""
        for thread in self.document["threads"]:
            if thread["tid"] in ids:
                return thread
        return None

    def assert_well_formed(self) -> None:
        """The document has every field of heatline-profile/1, and its numbers add up."""
        doc = self.document
        assert doc["schema"] == SCHEMA
        assert TOP_LEVEL_KEYS <= doc.keys(), TOP_LEVEL_KEYS - doc.keys()
        assert isinstance(doc["program"], str) and doc["program"]
        assert all(isinstance(arg, str) for arg in doc["argv"])
        assert doc["python_version"] == platform.python_version()
        assert doc["heatline_version"] == importlib.metadata.version("heatline")
        assert doc["elapsed_s"] >= 0
        assert doc["cpu_sampling_interval_s"] > 0
        assert {"available", "device", "per_process"} <= doc["gpu"].keys()
        assert isinstance(doc["samples"]["cpu"], int) and doc["samples"]["cpu"] >= 0
        assert isinstance(doc["samples"]["dropped"], int) and doc["samples"]["dropped"] >= 0
        assert doc["message"] is None or (isinstance(doc["message"], str) and doc["message"])
        totals = doc["totals"]
        assert TOTALS_KEYS <= totals.keys(), TOTALS_KEYS - totals.keys()
        assert all(totals[key] >= 0 for key in (*COUNTERS, "outside_program_s"))
        _check_transient(totals)
        assert doc["processes"], "at least the profiled process itself"
        for process in doc["processes"]:
            assert PROCESS_KEYS <= process.keys(), PROCESS_KEYS - process.keys()
            assert isinstance(process["pid"], int) and process["elapsed_s"] >= 0
            assert process["start_s"] >= 0 and process["cpu_s"] >= 0, process
            assert all(isinstance(arg, str) for arg in process["argv"])
        pids = {process["pid"] for process in doc["processes"]}
        assert len(pids) == len(doc["processes"]), doc["processes"]
        assert doc["processes"][0]["start_method"] is None
        for path, entry in doc["files"].items():
            for item in entry["lines"] + entry["functions"]:
                assert item["processes"] and set(item["processes"]) <= pids, (path, item)
        for thread in doc["threads"]:
            assert thread["pid"] in pids, thread
            assert isinstance(thread["tid"], int)
            assert all(thread[key] >= 0 for key in COUNTERS)
        if doc["profiled_functions"] is not None:
            for function in doc["profiled_functions"]:
                assert {"file", "name", "first_line", "last_line"} <= function.keys()
                assert function["first_line"] <= function["last_line"]
        total = self.total_s
        in_files = 0.0
        for path, entry in doc["files"].items():
            assert os.path.isabs(path), path
            self._assert_file_well_formed(path, entry, total)
            in_files += time_s(entry)
        if doc["profiled_functions"] is None:
            assert close(in_files + totals["outside_program_s"], total), (in_files, totals)
        else:
            # Restricted to decorated functions: the other lines are left out of the files. Each
            # figure is written to 9 significant digits, so the parts may exceed the written total
            # by a few parts in 10^9 each (1.1206578128 + 0.005029284 against 1.1256870901 failed
            # a bound of 1e-9).
            assert in_files + totals["outside_program_s"] <= total * (1 + 1e-6), (in_files, totals)
        for key in COUNTERS:
            in_threads = sum(thread[key] for thread in doc["threads"])
            assert close(in_threads, totals[key]), (key, in_threads, totals[key])
        self._assert_stacks_well_formed()

    def _assert_stacks_well_formed(self) -> None:
        """Every frame index is a frame, no stack is deeper than max_depth, and the books balance:
        the stacks' time, samples, memory and peak add up to the totals, and each program line's
        time and memory are those of the stacks whose innermost program frame it is."""
        doc = self.document
        section = doc["stacks"]
        assert {"max_depth", "limit", "merged", "frames", "stacks"} <= section.keys()
        frames, stacks = section["frames"], section["stacks"]
        for frame in frames:
            assert STACK_FRAME_KEYS <= frame.keys(), frame
        for stack in stacks:
            assert STACK_KEYS <= stack.keys(), stack
            assert len(stack["frames"]) <= section["max_depth"], stack
            assert all(0 <= index < len(frames) for index in stack["frames"]), stack
        memory = doc["memory_sampling_rate_bytes"] is not None
        # A notebook's document sets the kernel's threads aside, and their stacks with them; the
        # stacks of threads the cell started that ran only library code go too (jupyter.py).
        aside = bool(doc.get("kernel_threads"))
        in_samples = sum(stack["samples"] for stack in stacks)
        assert in_samples <= doc["samples"]["cpu"] if aside else in_samples == doc["samples"]["cpu"]
        sums = [*COUNTERS] + (["alloc_mb", "copy_mb", "peak_mb"] if memory else [])
        for key in sums:
            in_stacks = sum(stack[key] for stack in stacks)
            total = doc["totals"][key] or 0.0
            assert close(in_stacks, total) or (aside and in_stacks <= total), (key, in_stacks, total)
        if not memory:
            assert all(stack[key] is None for stack in stacks for key in ("alloc_mb", "copy_mb", "peak_mb"))
        if doc["profiled_functions"] is not None or section["merged"]["credits"]:
            return  # lines of undecorated functions are left out; merged stacks lost their lines
        by_line: dict[tuple[str, int], dict[str, float]] = {}
        for stack in stacks:
            program = [frames[i] for i in stack["frames"] if frames[i]["program"]]
            if program:
                into = by_line.setdefault((program[-1]["file"], program[-1]["line"]), {})
                for key in sums:
                    into[key] = into.get(key, 0.0) + stack[key]
        for path, entry in doc["files"].items():
            for line in entry["lines"]:
                found = by_line.get((path, line["line"]), {})
                for key in [*COUNTERS] + (["alloc_mb", "copy_mb"] if memory else []):
                    assert close(found.get(key, 0.0), line[key]), (path, line["line"], key, found, line[key])

    @staticmethod
    def _assert_file_well_formed(path: str, entry: dict, total: float) -> None:
        lines, functions = entry["lines"], entry["functions"]
        numbers = [line["line"] for line in lines]
        assert numbers == sorted(set(numbers)), f"{path}: lines not ascending: {numbers}"
        starts = [function["line"] for function in functions]
        assert starts == sorted(starts), f"{path}: functions not ascending: {starts}"
        source = Path(path).read_text().splitlines() if os.path.exists(path) else None
        for line in lines:
            assert LINE_KEYS <= line.keys(), (path, LINE_KEYS - line.keys())
            assert all(line[key] >= 0 for key in COUNTERS), line
            assert line["await_s"] <= line["system_s"] * (1 + 1e-9) + 1e-9, line
            _check_transient(line)
            if source is not None:
                assert line["source"] == source[line["line"] - 1], (path, line["line"])
        for function in functions:
            assert FUNCTION_KEYS <= function.keys(), (path, FUNCTION_KEYS - function.keys())
            _check_transient(function)
        for key in COUNTERS:
            assert close(sum(line[key] for line in lines), entry[key]), (path, key)
        if total > 0:
            assert abs(entry["percent"] - time_s(entry) / total * 100) <= PERCENT_TOLERANCE_POINTS
            for line in lines:
                for key in PERCENT_COUNTERS:
                    share = line[key] / total * 100
                    percent = line[key.replace("_s", "_percent")]
                    assert abs(percent - share) <= PERCENT_TOLERANCE_POINTS, (path, line, key)


@dataclass
class Run:
    """One run of the heatline command: the process result, the profile and the truth."""

    result: subprocess.CompletedProcess
    written: Profile | None  # None when the command wrote no profile
    measured: dict | None  # what a truth program measured itself, None when it wrote nothing

    @property
    def profile(self) -> Profile:
        assert self.written is not None, (
            f"no profile was written (exit status {self.returncode})\nstderr:\n{self.stderr}")
        return self.written

    @property
    def truth(self) -> dict:
        assert self.measured is not None, (
            f"the program wrote no truth (exit status {self.returncode})\nstderr:\n{self.stderr}")
        return self.measured

    @property
    def returncode(self) -> int:
        return self.result.returncode

    @property
    def stdout(self) -> str:
        return self.result.stdout

    @property
    def stderr(self) -> str:
        return self.result.stderr


class Runner:
    """Runs the heatline command, or python itself, with files in one test's tmp_path."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self._numbers = itertools.count()

    def new_path(self, stem: str, suffix: str = ".json") -> Path:
        return self.tmp_path / f"{stem}-{next(self._numbers)}{suffix}"

    def command(self, *args: str, **run_options) -> subprocess.CompletedProcess:
        """heatline with exactly these arguments."""
        return self._run([str(HEATLINE), *map(str, args)], **run_options)

    def python(self, *args: str, **run_options) -> subprocess.CompletedProcess:
        """The plain interpreter with exactly these arguments (the reference behaviour)."""
        return self._run([sys.executable, *map(str, args)], **run_options)

    def profile(self, program: Path | str, *program_args: str, options: tuple = (),
                truth: bool = False, **run_options) -> Run:
        """heatline [options] --json --outfile OUT program [TRUTH] [program_args]."""
        outfile = self.new_path("profile")
        truth_path = self.new_path("truth") if truth else None
        args = [*options, "--json", "--outfile", outfile, program]
        args += [truth_path] if truth_path else []
        result = self.command(*args, *program_args, **run_options)
        profile = Profile(json.loads(outfile.read_text())) if outfile.exists() else None
        measured = None
        if truth_path and truth_path.exists():
            measured = json.loads(truth_path.read_text())
        return Run(result, profile, measured)

    @staticmethod
    def _run(argv: list[str], timeout: float = RUN_TIMEOUT_S, input: str | None = None,
             **popen_options) -> subprocess.CompletedProcess:
        """subprocess.run(argv, capture_output=True, text=True, timeout=timeout), except that a
        run that hangs is ended together with every process it forked (its own session)."""
        stdin = popen_options.pop("stdin", subprocess.DEVNULL)
        stdin = subprocess.PIPE if input is not None else stdin
        with subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True, **popen_options) as process:
            try:
                stdout, stderr = process.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                stdout, stderr = process.communicate()
                pytest.fail(f"{argv} did not end within {timeout} s\nstdout: {stdout[-2000:]}"
                            f"\nstderr: {stderr[-2000:]}", pytrace=False)
        return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


@pytest.fixture(scope="session")
def installed_heatline() -> Path:
    if not HEATLINE.exists():
        pytest.fail(f"{HEATLINE} does not exist: install heatline into the virtual environment "
                    "that runs the tests (make install)", pytrace=False)
    return HEATLINE


@pytest.fixture
def heatline(installed_heatline: Path, tmp_path: Path) -> Runner:
    return Runner(tmp_path)
