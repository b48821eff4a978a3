"""Memory profiling against truth: programs allocate, copy and leak known amounts (or measure
them with tracemalloc) and the profile must agree within stated margins; --cpu-only and the
sampling-rate option; the API; threads, fork, a C library loaded late, a 4 GiB allocation; and
the NumPy copy case study in examples/.

Sampling: an allocation of s bytes is sampled with probability 1 - exp(-s/R) and weighted
s / (1 - exp(-s/R)), R being the sampling rate. An allocation of 8 R or more is sampled almost
surely with a weight within 0.04% of its size, so big buffers are counted exactly; many small
allocations totalling T bytes are counted with a relative standard deviation of sqrt(R / T).
A line that makes big allocations also makes a few small ones (the array object, argument
tuples): each of those is sampled with probability about size / R and then weighs about R.
"""
from __future__ import annotations

import ast
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import (MEMORY_SAMPLES_SIGMAS, PROGRAMS, SUM_RELATIVE_TOLERANCE, Profile, Runner,
                      assert_no_heatline_traceback)

NATIVE = PROGRAMS / "mem_native_truth.py"
PYTHON = PROGRAMS / "mem_python_truth.py"
COPIES = PROGRAMS / "mem_copy_truth.py"
LEAK = PROGRAMS / "mem_leak_truth.py"
API = PROGRAMS / "mem_api_session.py"
THREADS = PROGRAMS / "mem_threads.py"
FORK = PROGRAMS / "mem_fork.py"
NATIVE_CALLS = PROGRAMS / "mem_native_calls.py"
HUGE = PROGRAMS / "mem_huge.py"
SCOPE = PROGRAMS / "mem_scope.py"
SCOPE_HELPER = PROGRAMS / "mem_scope_helper.py"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMPY_COPY = EXAMPLES / "numpy_copy.py"
NUMPY_COPY_FIXED = EXAMPLES / "numpy_copy_fixed.py"

MB = 1 << 20
DEFAULT_SAMPLING_RATE_BYTES = 1 << 20
LINE_MEMORY_KEYS = ("alloc_mb", "python_alloc_fraction", "peak_mb", "avg_mb", "timeline",
                    "copy_mb", "copy_mb_s", "leak")
LINE_TIMELINE_MAX_POINTS = 64
FOOTPRINT_TIMELINE_MAX_POINTS = 256
# The writer rounds MB figures; a bound between two of them may be off by this much.
MB_ROUNDING = 0.01
# The writer prints seconds with 9 significant digits: exact to 5e-7 s in runs under 100 s.
TIME_ROUNDING_S = 1e-6

# Buffers of 16-64 R are counted exactly (see above); what else the line allocates is a few
# hundred bytes of small objects a call, a sample of which (probability ~1e-3) adds ~1 MB.
BIG_BUFFER_RELATIVE_MARGIN = 0.02
BIG_BUFFER_ABSOLUTE_MARGIN_MB = 2
# A line that only makes big native allocations: a stray sample of its small Python objects
# weighs ~1 MB against its tens to thousands of MB.
NATIVE_LINE_MAX_PYTHON_FRACTION = 0.1
# 61 MB of objects of 28-80 bytes at R = 64 KiB: ~980 samples, a standard deviation of 3.2%.
# The rest of the margin allows for size-class rounding: pymalloc rounds each request up to a
# multiple of 16 bytes (+14% on these rows: 211 bytes asked, 240 in blocks) and counting the
# blocks rather than the requests tracemalloc sees is a fair choice.
PYTHON_OBJECTS_SAMPLING_RATE_BYTES = 64 * 1024
PYTHON_OBJECTS_RELATIVE_MARGIN = 0.25
PYTHON_LINE_MIN_PYTHON_FRACTION = 0.9
# Copies of 8 MB at the default R (8 R): exact to a fraction of a MB over 4 copies.
COPY_RELATIVE_MARGIN = 0.1
COPY_ABSOLUTE_MARGIN_MB = 1
# A line that copies nothing itself: CPython's own small memcpys (hundreds of bytes a call)
# are sampled with probability ~1e-3 each, and one sample weighs ~1 MB, under 5% of 32 MB.
NO_COPY_MAX_COPY_FRACTION = 0.05
# Leaks: at R = 256 KiB each 1 MB buffer is sampled with probability 1 - e^-4 = 0.98, so ~98
# samples of the leaking line, all unfreed: (98+1)/(98+2) = 0.99, while 18 would reach 0.95.
LEAK_SAMPLING_RATE_BYTES = 256 * 1024
LEAK_MIN_LIKELIHOOD = 0.95
# Each line allocates 100 MB in 1 MB (4 R) buffers: a standard deviation of 0.14 MB a buffer,
# 1.4 MB over 100; 10% is 7 of them.
LEAK_ALLOC_RELATIVE_MARGIN = 0.1
# The reported growth rate against the loop's (leaked MB / loop seconds): the profiler may
# measure it over a longer span (start-up included), not over more than twice or half of it.
LEAK_RATE_MAX_FACTOR = 2
# 8 threads x 30 batches, at R = 256 KiB: each batch's 4 MB buffer (16 R) is sampled almost
# surely, so the NumPy line is exact up to stray samples of its small objects; each batch's 1 MB
# of 512-byte objects is ~4 samples, 240 MB at a standard deviation of sqrt(240 MB x R) = 8 MB
# (see sampling_margin_mb). A smaller rate than the default for a tighter bound on that line.
THREADS_SAMPLING_RATE_BYTES = 256 * 1024
THREADS_NUMPY_RELATIVE_MARGIN = 0.05
# Realloc, memcpy and native-thread buffers are 1-64 MB; the smallest two (1 and 2 MB at
# R = 1 MB) add ~1.2 MB of standard deviation to 127 MB. 10% leaves room for the library's and
# ctypes' own small allocations, not for counting a realloc as only its growth (-50%).
NATIVE_CALLS_RELATIVE_MARGIN = 0.1
# --reduced-profile keeps what has at least this share of the time or of the memory, and says
# so in the report.
REDUCED_MIN_PERCENT = 1
REDUCED_MEMORY_RULE = "or more of the time, of the memory allocated"
TIME_KEYS = ("python_s", "native_s", "system_s")
MAIN_ALLOC_SOURCE = "kept = np.empty(BUFFER_BYTES"
# A 4 GiB allocation is 4096 R: exact.
HUGE_RELATIVE_MARGIN = 0.005
# Case study: 122 MB arrays, copied 5 times; exact up to NumPy's first-call set-up (~1.5 MB).
CASE_STUDY_RELATIVE_MARGIN = 0.1
# The copying line holds three arrays at once (the old x, the draw and its copy) and the
# fixed line two; 2.5 and 2.2 arrays separate them with room for stray samples.
COPYING_LINE_MIN_PEAK_ARRAYS = 2.5
FIXED_LINE_MAX_PEAK_ARRAYS = 2.2
# A line's timeline keeps the highest live MB of each of at most 64 equal buckets (10 ms, doubled
# as the run outgrows them): in a run of 1-2 s, 20-40 ms, so each of the 5 iterations (80-300 ms)
# spans several buckets. An iteration holds three arrays only while it copies, and one or two
# while it draws (40% or more of it), so at least one bucket of each draw shows the drop from
# the copy before: a fall at each of iterations 2-5. Two of those four, by half an array or more.
SAWTOOTH_MIN_FALLS = 2
FIXED_MAX_COPY_FRACTION = 0.05


# ---- helpers ----------------------------------------------------------------------------------

def at_most(value: float, bound: float) -> bool:
    """value <= bound up to the writer's rounding of both."""
    return value <= bound * (1 + SUM_RELATIVE_TOLERANCE) + MB_ROUNDING


def assert_mb_match(measured: float, truth_bytes: float, relative: float, absolute_mb: float,
                    what: str) -> None:
    truth_mb = truth_bytes / MB
    margin = relative * truth_mb + absolute_mb
    assert abs(measured - truth_mb) <= margin, (
        f"{what}: profiled {measured:.2f} MB, truth {truth_mb:.2f} MB (margin {margin:.2f})")


def marked(profile: Profile, program: Path, name: str) -> dict:
    entry = profile.marked(program, name)
    assert entry is not None, f"line {name!r} of {program.name} is not in the profile"
    return entry


def line_containing(profile: Profile, program: Path, text: str) -> dict:
    """The profile's entry for the one line of program whose source contains text."""
    numbers = [number for number, source in enumerate(program.read_text().splitlines(), start=1)
               if text in source]
    assert len(numbers) == 1, (program, text, numbers)
    entry = profile.line(program, numbers[0])
    assert entry is not None, f"{program.name}:{numbers[0]} is not in the profile"
    return entry


def module_constants(program: Path) -> dict:
    """A program's top-level NAME = literal assignments, read without running it."""
    constants = {}
    for node in ast.parse(program.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            try:
                constants[getattr(node.targets[0], "id", None)] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return constants


def timeline_falls(timeline: list, by_mb: float) -> int:
    """How many times the timeline falls by at least by_mb below its highest point since the
    previous fall, each fall after a rise of at least by_mb: a fall spread over several points
    counts once."""
    falls, high, low = 0, None, None
    for _, mb in timeline:
        if low is None:
            high = mb if high is None else max(high, mb)
            if high - mb >= by_mb:
                falls, low = falls + 1, mb
        else:
            low = min(low, mb)
            if mb - low >= by_mb:
                high, low = mb, None
    return falls


def sampling_margin_mb(count: int, object_bytes: int, rate_bytes: int) -> float:
    """MEMORY_SAMPLES_SIGMAS standard deviations of the MB estimated for `count` allocations of
    `object_bytes` each: each is sampled with probability p = 1 - exp(-s / R) and then weighs
    s / p, a variance of s^2 (1 - p) / p each (about s R for small ones)."""
    sampled = 1 - math.exp(-object_bytes / rate_bytes)
    variance = count * object_bytes ** 2 * (1 - sampled) / sampled
    return MEMORY_SAMPLES_SIGMAS * math.sqrt(variance) / MB


def entries(profile: Profile):
    """Every line and function entry of every file, with a name for messages."""
    for path, entry in profile["files"].items():
        for line in entry["lines"]:
            yield f"{path}:{line['line']}", line
        for function in entry["functions"]:
            yield f"{path}:{function['name']}", function


def assert_timeline_well_formed(timeline: list, elapsed_s: float | set[float], bound_mb: float,
                                what: str) -> None:
    """Points in time order within the run, under `bound_mb` (the footprint's peak, or a line's
    allocated MB: a line's peak is the one its samples support, which its timeline of raw
    estimates may pass, docs/how-it-works.md#peaks); the last at the end of the run (every
    session here runs unpaused from start to stop, and the end of the run is one clock reading,
    for the last point and for elapsed_s)."""
    assert timeline, what
    # A line run in several processes has the timeline of the one where it peaked highest, in
    # the run's time: it ends where that process's profile ended (one of `elapsed_s`).
    ends = elapsed_s if isinstance(elapsed_s, set) else {elapsed_s}
    times = [point[0] for point in timeline]
    assert all(len(point) == 2 for point in timeline), (what, timeline)
    assert times == sorted(times), (what, timeline)
    assert all(0 <= t <= max(ends) + TIME_ROUNDING_S for t in times), (what, ends, timeline)
    assert any(abs(times[-1] - end) <= TIME_ROUNDING_S for end in ends), (
        f"{what}: last point at {times[-1]} s, its processes ended at {sorted(ends)} s")
    assert all(0 <= mb and at_most(mb, bound_mb) for _, mb in timeline), (what, bound_mb, timeline)


def assert_memory_well_formed(profile: Profile) -> None:
    """Every memory field is present and in range, and the peaks bound what they should."""
    profile.assert_well_formed()
    doc = profile.document
    assert isinstance(doc["memory_sampling_rate_bytes"], int)
    assert doc["memory_sampling_rate_bytes"] > 0
    assert isinstance(doc["samples"]["memory"], int) and doc["samples"]["memory"] > 0
    assert isinstance(doc["samples"]["memory_dropped"], int)
    assert doc["samples"]["memory_dropped"] >= 0
    totals = doc["totals"]
    assert totals["alloc_mb"] > 0 and totals["copy_mb"] >= 0
    assert 0 <= totals["python_alloc_fraction"] <= 1
    assert 0 < totals["peak_mb"] and at_most(totals["peak_mb"], totals["alloc_mb"]), totals
    peak = doc["memory_peak"]
    assert abs(peak["mb"] - totals["peak_mb"]) <= MB_ROUNDING + SUM_RELATIVE_TOLERANCE * peak["mb"]
    assert 0 <= peak["t_s"] <= doc["elapsed_s"] + TIME_ROUNDING_S, (peak, doc["elapsed_s"])
    # Both null when no program line held memory at the peak.
    assert (peak["file"] is None) == (peak["line"] is None), peak
    assert peak["file"] is None or (os.path.isabs(peak["file"]) and peak["line"] > 0), peak
    assert doc["timeline"], "a profile that allocated has a footprint timeline"
    assert len(doc["timeline"]) <= FOOTPRINT_TIMELINE_MAX_POINTS, doc["timeline"]
    process_end = {p["pid"]: p["start_s"] + p["elapsed_s"] for p in doc["processes"]}
    # The footprint is the process's that peaked highest (peaks are per process).
    assert_timeline_well_formed(doc["timeline"], process_end[peak["pid"]], peak["mb"], "footprint")
    for what, entry in entries(profile):
        assert entry["alloc_mb"] >= 0 and entry["copy_mb"] >= 0 and entry["copy_mb_s"] >= 0, (
            what, entry)
        fraction = entry["python_alloc_fraction"]
        if fraction is None:
            assert entry["alloc_mb"] == 0, (what, entry)
        else:
            assert 0 <= fraction <= 1, (what, entry)
        if entry["alloc_mb"] > 0:
            assert fraction is not None, (what, entry)
        assert entry["peak_mb"] >= 0 and entry["avg_mb"] >= 0, (what, entry)
        assert at_most(entry["avg_mb"], entry["peak_mb"]), (what, entry)
        assert at_most(entry["peak_mb"], entry["alloc_mb"]), (what, entry)
        if entry["timeline"] is not None:
            assert len(entry["timeline"]) <= LINE_TIMELINE_MAX_POINTS, (what, entry["timeline"])
            ends = {process_end[pid] for pid in entry["processes"]}
            assert_timeline_well_formed(entry["timeline"], ends, entry["alloc_mb"], what)
        if entry["leak"] is not None:
            assert LEAK_MIN_LIKELIHOOD <= entry["leak"]["likelihood"] <= 1, (what, entry)
            assert entry["leak"]["mb_s"] > 0, (what, entry)


def profile_run(runner: Runner, program: Path, *program_args: str, options: tuple = (),
                timeout: float | None = None):
    run_options = {} if timeout is None else {"timeout": timeout}
    run = runner.profile(program, *program_args, options=options, truth=True, **run_options)
    assert run.returncode == 0, run.stderr
    assert_no_heatline_traceback(run.stderr)
    assert_memory_well_formed(run.profile)
    return run


# ---- native buffers ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def native(installed_heatline, tmp_path_factory):
    return profile_run(Runner(tmp_path_factory.mktemp("native")), NATIVE)


def test_default_sampling_rate_is_one_mebibyte(native):
    assert native.profile["memory_sampling_rate_bytes"] == DEFAULT_SAMPLING_RATE_BYTES


def test_native_buffers_are_counted_in_full_on_their_lines(native):
    freed = marked(native.profile, NATIVE, "freed")
    kept = marked(native.profile, NATIVE, "kept")
    assert_mb_match(freed["alloc_mb"], native.truth["freed_bytes"], BIG_BUFFER_RELATIVE_MARGIN,
                    BIG_BUFFER_ABSOLUTE_MARGIN_MB, "line freeing its buffers")
    assert_mb_match(kept["alloc_mb"], native.truth["kept_bytes"], BIG_BUFFER_RELATIVE_MARGIN,
                    BIG_BUFFER_ABSOLUTE_MARGIN_MB, "line keeping its buffer")


def test_numpy_buffers_are_native_allocations(native):
    for name in ("freed", "kept"):
        entry = marked(native.profile, NATIVE, name)
        assert entry["python_alloc_fraction"] < NATIVE_LINE_MAX_PYTHON_FRACTION, (name, entry)


def test_line_peak_is_the_most_the_line_holds_at_once(native):
    freed = marked(native.profile, NATIVE, "freed")
    kept = marked(native.profile, NATIVE, "kept")
    assert_mb_match(freed["peak_mb"], native.truth["freed_most_live_bytes"],
                    BIG_BUFFER_RELATIVE_MARGIN, BIG_BUFFER_ABSOLUTE_MARGIN_MB,
                    "peak of the line freeing its buffers")
    assert_mb_match(kept["peak_mb"], native.truth["kept_bytes"], BIG_BUFFER_RELATIVE_MARGIN,
                    BIG_BUFFER_ABSOLUTE_MARGIN_MB, "peak of the line keeping its buffer")
    assert kept["timeline"], kept


def test_footprint_peaks_on_the_line_holding_the_big_buffer(native):
    profile = native.profile
    kept_mb = native.truth["kept_bytes"] / MB
    peak = profile["memory_peak"]
    assert Path(peak["file"]).resolve() == NATIVE.resolve(), peak
    assert peak["line"] == marked(profile, NATIVE, "kept")["line"], peak
    assert peak["mb"] >= kept_mb, peak
    # The kept buffer is live for the last 0.2 s of a run of about 0.5 s: the footprint shows it.
    highest = max(mb for _, mb in profile["timeline"])
    assert highest >= kept_mb * (1 - BIG_BUFFER_RELATIVE_MARGIN), profile["timeline"]


# ---- Python objects ---------------------------------------------------------------------------

def test_small_python_objects_match_tracemalloc(heatline):
    truth_path = heatline.new_path("tracemalloc")
    result = heatline.python(PYTHON, truth_path)
    assert result.returncode == 0, result.stderr
    truth = json.loads(truth_path.read_text())
    # The line frees nothing, so what it added to the traced memory is all it allocated.
    assert truth["peak_bytes"] - truth["allocated_bytes"] <= 0.001 * truth["allocated_bytes"]
    run = heatline.profile(PYTHON, options=(
        "--memory-sampling-rate", str(PYTHON_OBJECTS_SAMPLING_RATE_BYTES)))
    assert run.returncode == 0, run.stderr
    assert_memory_well_formed(run.profile)
    assert run.profile["memory_sampling_rate_bytes"] == PYTHON_OBJECTS_SAMPLING_RATE_BYTES
    objects = marked(run.profile, PYTHON, "objects")
    assert_mb_match(objects["alloc_mb"], truth["allocated_bytes"], PYTHON_OBJECTS_RELATIVE_MARGIN,
                    0, "line building small objects")
    assert objects["python_alloc_fraction"] > PYTHON_LINE_MIN_PYTHON_FRACTION, objects


# ---- copies -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def copies(installed_heatline, tmp_path_factory):
    return profile_run(Runner(tmp_path_factory.mktemp("copies")), COPIES)


@pytest.mark.parametrize("name", ["bytes", "numpy", "slice"])
def test_copies_are_counted_on_the_copying_line(copies, name):
    entry = marked(copies.profile, COPIES, name)
    assert_mb_match(entry["copy_mb"], copies.truth["copied_bytes"][name], COPY_RELATIVE_MARGIN,
                    COPY_ABSOLUTE_MARGIN_MB, f"copies of the {name} line")
    assert_mb_match(entry["alloc_mb"], copies.truth["allocated_bytes"][name],
                    COPY_RELATIVE_MARGIN, COPY_ABSOLUTE_MARGIN_MB, f"allocations of {name} line")
    # bytearray and bytes buffers come from PyObject_Malloc however large; NumPy's from malloc.
    if name == "numpy":
        assert entry["python_alloc_fraction"] < NATIVE_LINE_MAX_PYTHON_FRACTION, entry
    else:
        assert entry["python_alloc_fraction"] > PYTHON_LINE_MIN_PYTHON_FRACTION, entry
    elapsed_s = copies.profile["elapsed_s"]
    assert abs(entry["copy_mb_s"] - entry["copy_mb"] / elapsed_s) <= (
        SUM_RELATIVE_TOLERANCE * entry["copy_mb_s"] + MB_ROUNDING), (entry, elapsed_s)


def test_allocation_without_copy_has_no_copies(copies):
    entry = marked(copies.profile, COPIES, "no-copy")
    assert_mb_match(entry["alloc_mb"], copies.truth["allocated_bytes"]["no-copy"],
                    COPY_RELATIVE_MARGIN, COPY_ABSOLUTE_MARGIN_MB, "line allocating only")
    assert entry["copy_mb"] <= NO_COPY_MAX_COPY_FRACTION * entry["alloc_mb"], entry


def test_total_copies_include_every_copying_line(copies):
    lines = sum(marked(copies.profile, COPIES, name)["copy_mb"]
                for name in ("bytes", "numpy", "slice"))
    assert at_most(lines, copies.profile["totals"]["copy_mb"]), (lines, copies.profile["totals"])


# ---- leaks ------------------------------------------------------------------------------------

def test_leaking_line_is_reported_and_freeing_line_is_not(heatline):
    run = profile_run(heatline, LEAK,
                      options=("--memory-sampling-rate", str(LEAK_SAMPLING_RATE_BYTES)))
    leaks = marked(run.profile, LEAK, "leaks")
    frees = marked(run.profile, LEAK, "frees")
    assert frees["leak"] is None, frees
    assert leaks["leak"] is not None, leaks
    assert leaks["leak"]["likelihood"] >= LEAK_MIN_LIKELIHOOD, leaks
    truth_rate = run.truth["leaked_mb"] / run.truth["loop_s"]
    rate = leaks["leak"]["mb_s"]
    assert truth_rate / LEAK_RATE_MAX_FACTOR <= rate <= truth_rate * LEAK_RATE_MAX_FACTOR, (
        f"leak of {rate:.1f} MB/s profiled, {truth_rate:.1f} MB/s measured")
    # Both lines allocated the same buffers; only the leaking one still holds them.
    for what, entry in (("leaking line", leaks), ("freeing line", frees)):
        assert_mb_match(entry["alloc_mb"], run.truth["leaked_mb"] * MB,
                        LEAK_ALLOC_RELATIVE_MARGIN, 0, what)


# ---- options ----------------------------------------------------------------------------------

def test_cpu_only_leaves_every_memory_field_null(heatline):
    run = heatline.profile(NATIVE, options=("--cpu-only",), truth=True)
    assert run.returncode == 0, run.stderr
    profile = run.profile
    profile.assert_well_formed()
    for key in ("memory_sampling_rate_bytes", "timeline", "memory_peak"):
        assert profile[key] is None, (key, profile[key])
    for key in ("memory", "memory_dropped"):
        assert profile["samples"][key] is None, profile["samples"]
    for key in ("alloc_mb", "python_alloc_fraction", "peak_mb", "copy_mb"):
        assert profile["totals"][key] is None, (key, profile["totals"])
    reported = list(entries(profile))
    assert reported, "the program's lines are still profiled for CPU time"
    for what, entry in reported:
        assert all(entry[key] is None for key in LINE_MEMORY_KEYS), (what, entry)


def test_profile_only_with_memory_on_counts_the_chosen_files_lines(heatline):
    run = profile_run(heatline, SCOPE, options=("--profile-only", "mem_scope_helper"))
    assert [Path(path).resolve() for path in run.profile["files"]] == [SCOPE_HELPER.resolve()]
    assert_mb_match(marked(run.profile, SCOPE_HELPER, "helper-alloc")["alloc_mb"],
                    run.truth["helper_bytes"], BIG_BUFFER_RELATIVE_MARGIN,
                    BIG_BUFFER_ABSOLUTE_MARGIN_MB, "helper's line")


def test_profile_exclude_with_memory_on_gives_an_excluded_files_memory_to_its_caller(heatline):
    run = profile_run(heatline, SCOPE, options=("--profile-exclude", "mem_scope_helper"))
    assert [Path(path).resolve() for path in run.profile["files"]] == [SCOPE.resolve()]
    assert_mb_match(marked(run.profile, SCOPE, "call-helper")["alloc_mb"],
                    run.truth["helper_bytes"], BIG_BUFFER_RELATIVE_MARGIN,
                    BIG_BUFFER_ABSOLUTE_MARGIN_MB, "line calling the excluded helper")
    assert_mb_match(marked(run.profile, SCOPE, "main-alloc")["alloc_mb"],
                    run.truth["main_bytes"], BIG_BUFFER_RELATIVE_MARGIN,
                    BIG_BUFFER_ABSOLUTE_MARGIN_MB, "main file's own line")


def test_reduced_profile_with_memory_on_keeps_lines_that_allocate_but_take_no_time(heatline):
    full = profile_run(heatline, SCOPE)
    main_alloc = marked(full.profile, SCOPE, "main-alloc")  # 32 MB in microseconds
    assert share_percent(main_alloc, full.profile, TIME_KEYS) < REDUCED_MIN_PERCENT, main_alloc
    assert share_percent(main_alloc, full.profile, ("alloc_mb",)) >= REDUCED_MIN_PERCENT
    report = reduced_text_report(heatline)
    assert MAIN_ALLOC_SOURCE in report, report


def test_reduced_text_report_with_memory_on_states_its_rule(heatline):
    report = reduced_text_report(heatline)
    assert REDUCED_MEMORY_RULE in " ".join(report.split()), report


def reduced_text_report(heatline) -> str:
    """mem_scope.py's text report under --reduced-profile, wide enough for whole lines."""
    outfile = heatline.new_path("report", ".txt")
    result = heatline.command("--reduced-profile", "--outfile", outfile, SCOPE,
                              heatline.new_path("truth"), env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    return outfile.read_text()


def share_percent(entry: dict, profile: Profile, keys: tuple[str, ...]) -> float:
    """The entry's share of the profile's totals of keys, in percent."""
    return sum(entry[key] for key in keys) / sum(profile["totals"][key] for key in keys) * 100


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "lots"])
def test_bad_memory_sampling_rate_is_one_line_error(heatline, value):
    result = heatline.command("--memory-sampling-rate", value, NATIVE, heatline.new_path("truth"))
    assert result.returncode != 0, result.stderr
    assert result.stdout == ""
    mentions = [line for line in result.stderr.splitlines() if "--memory-sampling-rate" in line]
    assert len(mentions) == 1, result.stderr
    assert_no_heatline_traceback(result.stderr)


# ---- API --------------------------------------------------------------------------------------

def test_api_sessions_in_plain_python_count_only_their_own_allocations(heatline):
    out = heatline.new_path("api")
    result = heatline.python(API, out)
    assert result.returncode == 0, result.stderr
    written = json.loads(out.read_text())
    first, second = (Profile(document) for document in written["profiles"])
    for profile in (first, second):
        assert_memory_well_formed(profile)
        assert profile["memory_sampling_rate_bytes"] == DEFAULT_SAMPLING_RATE_BYTES
    assert_mb_match(marked(first, API, "first")["alloc_mb"], written["buffer_bytes"],
                    BIG_BUFFER_RELATIVE_MARGIN, BIG_BUFFER_ABSOLUTE_MARGIN_MB, "first session")
    assert_mb_match(marked(second, API, "second")["alloc_mb"], written["second_buffer_bytes"],
                    BIG_BUFFER_RELATIVE_MARGIN, BIG_BUFFER_ABSOLUTE_MARGIN_MB, "second session")
    # Allocated after the first stop() and before the second start(): in neither profile.
    for profile in (first, second):
        assert profile.marked(API, "between") is None, profile.marked(API, "between")
    assert first.marked(API, "second") is None
    # Freeing a buffer the second session never saw allocated counts as nothing: its
    # footprint never rises to the 64 MB buffer, let alone above the one it allocated.
    second_mb = written["second_buffer_bytes"] / MB
    assert second["totals"]["peak_mb"] <= second_mb * (1 + BIG_BUFFER_RELATIVE_MARGIN) + (
        BIG_BUFFER_ABSOLUTE_MARGIN_MB), second["totals"]


# ---- stress -----------------------------------------------------------------------------------

def test_eight_threads_allocating_at_once(heatline):
    run = profile_run(heatline, THREADS,
                      options=("--memory-sampling-rate", str(THREADS_SAMPLING_RATE_BYTES)))
    truth = run.truth
    assert truth["threads_finished"] == 8
    numpy_line = marked(run.profile, THREADS, "thread-numpy")
    python_line = marked(run.profile, THREADS, "thread-python")
    assert_mb_match(numpy_line["alloc_mb"], truth["numpy_bytes"],
                    THREADS_NUMPY_RELATIVE_MARGIN, 0, "NumPy line of eight threads")
    assert numpy_line["python_alloc_fraction"] < NATIVE_LINE_MAX_PYTHON_FRACTION, numpy_line
    objects = truth["python_bytes"] // truth["python_object_bytes"]
    assert_mb_match(python_line["alloc_mb"], truth["python_bytes"], 0,
                    sampling_margin_mb(objects, truth["python_object_bytes"],
                                       THREADS_SAMPLING_RATE_BYTES),
                    "Python line of eight threads")
    assert python_line["python_alloc_fraction"] > PYTHON_LINE_MIN_PYTHON_FRACTION, python_line
    totals = run.profile["totals"]
    assert at_most(numpy_line["alloc_mb"] + python_line["alloc_mb"], totals["alloc_mb"]), totals


def test_fork_with_allocating_threads_neither_hangs_nor_loses_the_parent(heatline):
    run = profile_run(heatline, FORK, timeout=60)
    truth = run.truth
    assert truth["child_statuses"] == [5, 5, 5, 5], truth
    assert_mb_match(marked(run.profile, FORK, "parent")["alloc_mb"], truth["parent_bytes"],
                    BIG_BUFFER_RELATIVE_MARGIN, BIG_BUFFER_ABSOLUTE_MARGIN_MB, "parent line")
    # The threads allocated while the children were forked: their line is counted once.
    assert_mb_match(marked(run.profile, FORK, "churn-numpy")["alloc_mb"],
                    truth["churn_buffers"] * truth["buffer_bytes"], 0,
                    sampling_margin_mb(truth["churn_buffers"], truth["buffer_bytes"],
                                       DEFAULT_SAMPLING_RATE_BYTES),
                    "line of the threads allocating across the forks")


NATIVE_SOURCE = r"""
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* malloc(first), then realloc to twice the size until it holds last bytes. */
int grow_by_doubling(size_t first, size_t last) {
    size_t size = first;
    char *buffer = malloc(size);
    if (buffer == NULL) return 1;
    while (size < last) {
        char *grown = realloc(buffer, size * 2);
        if (grown == NULL) { free(buffer); return 1; }
        buffer = grown;
        size *= 2;
    }
    buffer[size - 1] = 1;
    free(buffer);
    return 0;
}

/* Two buffers of `bytes`; memcpy one into the other `times` times. */
int copy_buffers(size_t bytes, int times) {
    char *source = malloc(bytes), *target = malloc(bytes);
    int status = source == NULL || target == NULL;
    for (int i = 0; i < times && !status; i++) memcpy(target, source, bytes);
    free(source);
    free(target);
    return status;
}

struct churn { size_t bytes; int times; int status; };

static void *churn_run(void *argument) {
    struct churn *churn = argument;
    for (int i = 0; i < churn->times; i++) {
        char *buffer = malloc(churn->bytes);
        if (buffer == NULL) { churn->status = 1; break; }
        buffer[churn->bytes - 1] = 1;
        free(buffer);
    }
    return NULL;
}

/* malloc and free `bytes`, `times` times, in a new thread that never runs Python. */
int churn_in_native_thread(size_t bytes, int times) {
    struct churn churn = {bytes, times, 0};
    pthread_t thread;
    if (pthread_create(&thread, NULL, churn_run, &churn) != 0) return 1;
    pthread_join(thread, NULL);
    return churn.status;
}
"""


@pytest.fixture(scope="module")
def native_calls(installed_heatline, tmp_path_factory):
    """mem_native_calls.py profiled, with NATIVE_SOURCE built as the library it loads."""
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler (cc) to build the test library")
    directory = tmp_path_factory.mktemp("native_calls")
    source = directory / "native_calls.c"
    source.write_text(NATIVE_SOURCE)
    library = directory / "libnative_calls.so"
    # -fno-builtin: every malloc, realloc and memcpy stays a call into the C library.
    subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-fno-builtin", "-pthread", "-o",
                    str(library), str(source)], check=True, capture_output=True, timeout=60)
    run = profile_run(Runner(directory), NATIVE_CALLS, str(library))
    assert run.truth["status"] == 0, run.truth
    return run


def test_library_loaded_after_start_has_its_reallocs_and_copies_counted(native_calls):
    grow = marked(native_calls.profile, NATIVE_CALLS, "realloc")
    copy = marked(native_calls.profile, NATIVE_CALLS, "memcpy")
    truth = native_calls.truth
    assert_mb_match(grow["alloc_mb"], truth["realloc_allocated_bytes"],
                    NATIVE_CALLS_RELATIVE_MARGIN, 0, "malloc and reallocs")
    assert grow["python_alloc_fraction"] < NATIVE_LINE_MAX_PYTHON_FRACTION, grow
    assert_mb_match(copy["copy_mb"], truth["memcpy_copied_bytes"], NATIVE_CALLS_RELATIVE_MARGIN,
                    0, "memcpy")
    assert_mb_match(copy["alloc_mb"], truth["memcpy_allocated_bytes"],
                    NATIVE_CALLS_RELATIVE_MARGIN, 0, "memcpy buffers")


def test_native_thread_allocations_go_to_the_main_threads_line(native_calls):
    churn = marked(native_calls.profile, NATIVE_CALLS, "native-thread")
    assert_mb_match(churn["alloc_mb"], native_calls.truth["native_thread_allocated_bytes"],
                    NATIVE_CALLS_RELATIVE_MARGIN, 0, "native thread's allocations")
    assert churn["python_alloc_fraction"] < NATIVE_LINE_MAX_PYTHON_FRACTION, churn


def test_four_gibibyte_allocation_is_counted_in_full(heatline):
    run = profile_run(heatline, HUGE)
    if run.truth["allocated_bytes"] == 0:
        pytest.skip("the system refused a 4 GiB allocation (MemoryError)")
    huge = marked(run.profile, HUGE, "huge")
    assert_mb_match(huge["alloc_mb"], run.truth["allocated_bytes"], HUGE_RELATIVE_MARGIN, 0,
                    "4 GiB line")
    assert_mb_match(huge["peak_mb"], run.truth["allocated_bytes"], HUGE_RELATIVE_MARGIN, 0,
                    "4 GiB line's peak")
    assert run.profile["totals"]["peak_mb"] >= run.truth["allocated_bytes"] / MB


# ---- the NumPy copy case study ----------------------------------------------------------------

@pytest.fixture(scope="module")
def case_study(installed_heatline, tmp_path_factory):
    runner = Runner(tmp_path_factory.mktemp("case_study"))
    runs = {}
    for program in (NUMPY_COPY, NUMPY_COPY_FIXED):
        run = runner.profile(program)
        assert run.returncode == 0, run.stderr
        assert_memory_well_formed(run.profile)
        runs[program] = run.profile
    return runs


def case_study_sizes(program: Path) -> tuple[int, float]:
    """(iterations, MB of one array) from the example's own constants."""
    constants = module_constants(program)
    return constants["ITERATIONS"], constants["N"] * 8 / MB


def test_case_study_copying_line_allocates_natively_and_copies_every_draw(case_study):
    iterations, array_mb = case_study_sizes(NUMPY_COPY)
    line = line_containing(case_study[NUMPY_COPY], NUMPY_COPY, "x = np.array(")
    assert line["python_alloc_fraction"] < NATIVE_LINE_MAX_PYTHON_FRACTION, line
    # Each iteration allocates the draw and its copy, and copies the draw.
    assert_mb_match(line["alloc_mb"], 2 * iterations * array_mb * MB, CASE_STUDY_RELATIVE_MARGIN,
                    0, "copying line's allocations")
    assert_mb_match(line["copy_mb"], iterations * array_mb * MB, CASE_STUDY_RELATIVE_MARGIN, 0,
                    "copying line's copies")


def test_case_study_copying_line_has_a_sawtooth_three_arrays_high(case_study):
    _, array_mb = case_study_sizes(NUMPY_COPY)
    line = line_containing(case_study[NUMPY_COPY], NUMPY_COPY, "x = np.array(")
    assert line["peak_mb"] >= COPYING_LINE_MIN_PEAK_ARRAYS * array_mb, line
    assert line["avg_mb"] < line["peak_mb"], line
    falls = timeline_falls(line["timeline"], array_mb / 2)
    assert falls >= SAWTOOTH_MIN_FALLS, (falls, line["timeline"])


def test_case_study_fix_copies_nothing_and_peaks_lower(case_study):
    iterations, array_mb = case_study_sizes(NUMPY_COPY_FIXED)
    assert (iterations, array_mb) == case_study_sizes(NUMPY_COPY), "the two examples differ"
    copying = line_containing(case_study[NUMPY_COPY], NUMPY_COPY, "x = np.array(")
    fixed = line_containing(case_study[NUMPY_COPY_FIXED], NUMPY_COPY_FIXED,
                            "x = np.random.uniform(")
    assert fixed["copy_mb"] < FIXED_MAX_COPY_FRACTION * copying["copy_mb"], (fixed, copying)
    assert_mb_match(fixed["alloc_mb"], iterations * array_mb * MB, CASE_STUDY_RELATIVE_MARGIN, 0,
                    "fixed line's allocations")
    assert fixed["peak_mb"] <= FIXED_LINE_MAX_PEAK_ARRAYS * array_mb, fixed
    copying_peak = case_study[NUMPY_COPY]["totals"]["peak_mb"]
    fixed_peak = case_study[NUMPY_COPY_FIXED]["totals"]["peak_mb"]
    assert fixed_peak <= copying_peak - array_mb / 2, (fixed_peak, copying_peak)
