"""Live memory against truth: line peaks show only what the samples support (a line holding one
small object at a time has no peak; a line holding 100 MB of small objects keeps its peak within
10%), and a function leaks when one of its lines does, whatever its other lines free."""
from __future__ import annotations

import math

from conftest import PROGRAMS

PEAK = PROGRAMS / "mem_peak_truth.py"
LEAK = PROGRAMS / "mem_leak_truth.py"
MB = 1 << 20
# A sampling rate where 10% of 100 MB is many standard deviations: sqrt(64 KiB x 100 MB) is
# 2.5 MB, so the 10% bound is 4 standard deviations of one estimate.
PEAK_RATE_BYTES = 65536
PEAK_RELATIVE_MARGIN = 0.10
# A line that only ever holds one 28-32 byte int: its peak is the object, or nothing to show.
NO_PEAK_MB = 0.1


def test_a_line_holding_one_small_object_at_a_time_shows_no_peak(heatline):
    run = heatline.profile(PEAK, options=("--memory-sampling-rate", str(PEAK_RATE_BYTES)), truth=True)
    assert run.returncode == 0, run.stderr
    line = run.profile.marked(PEAK, "one-at-a-time")
    assert line is not None and line["alloc_mb"] > 10, line  # it allocated plenty, one at a time
    assert line["peak_mb"] < NO_PEAK_MB, line


def test_a_line_holding_100_mb_of_small_objects_keeps_its_peak_within_ten_percent(heatline):
    run = heatline.profile(PEAK, options=("--memory-sampling-rate", str(PEAK_RATE_BYTES)), truth=True)
    assert run.returncode == 0, run.stderr
    line = run.profile.marked(PEAK, "holds")
    truth_mb = run.truth["held_bytes"] / MB
    assert line is not None, run.profile["files"]
    assert math.isclose(line["peak_mb"], truth_mb, rel_tol=PEAK_RELATIVE_MARGIN), (line["peak_mb"], truth_mb)


def test_a_function_leaks_when_its_leaking_line_does(heatline):
    run = heatline.profile(LEAK, truth=True)
    assert run.returncode == 0, run.stderr
    line = run.profile.marked(LEAK, "leaks")
    frees = run.profile.marked(LEAK, "frees")
    assert line["leak"] is not None and frees["leak"] is None, (line, frees)
    function = run.profile.function(LEAK, "main")
    assert function is not None
    # The function's own allocations were half freed (the other line's), yet it leaks.
    assert function["leak"] is not None, function
    assert function["leak"]["likelihood"] >= line["leak"]["likelihood"] - 1e-9
    assert math.isclose(function["leak"]["mb_s"], line["leak"]["mb_s"], rel_tol=1e-6), (function, line)
