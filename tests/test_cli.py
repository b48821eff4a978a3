"""The heatline command: running the program as python3 would, its options, where output goes."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import statistics
import sysconfig
import time

import pytest

from conftest import (PROGRAMS, assert_memory_samples_match, assert_no_heatline_traceback,
                      assert_samples_fit_interval, assert_seconds_match, cpu_s, time_s)

ECHO = PROGRAMS / "echo_run.py"
LIGHT_AND_HEAVY = PROGRAMS / "light_and_heavy.py"
LINE_SHARES = PROGRAMS / "line_shares_truth.py"
FILTER_MAIN = PROGRAMS / "filter_main.py"
FILTER_HELPER = PROGRAMS / "filter_helper.py"
TURNS_ON_LATER = PROGRAMS / "turns_on_later.py"
SMALL_OBJECTS = PROGRAMS / "small_objects.py"

# Arguments after the program belong to it, even those that look like heatline's own options.
PROGRAM_ARGS = ("--json", "-m", "x", "--version", "two words", "")
STDIN_TEXT = "first line of stdin\nsecond line\n"
# Wide enough that a text report never wraps or cuts a short source line.
WIDE_TERMINAL = {**os.environ, "COLUMNS": "200"}

OPTIONS = ("--cpu-only", "--cpu-sampling-interval", "--reduced-profile", "--profile-all",
           "--profile-only", "--profile-exclude", "--outfile", "--json", "--html", "--cli", "--gpu", "--no-gpu", "--off", "--version",
           "--help", "-m")

# Intervals at or above the kernel tick (4 ms at HZ=250, 10 ms at HZ=100): below it the kernel
# delivers several expirations in one signal, and the number of samples is the kernel's choice.
SAMPLING_INTERVALS_S = (0.02, 0.05)
# A rate and one 4 times smaller: 512 and 2048 expected samples of small_objects.py's line
# (+-113 and +-226 at 5 standard deviations, see conftest), so the two cannot be mistaken.
MEMORY_SAMPLING_RATES_BYTES = (256 * 1024, 64 * 1024)
# The kernel tick is measured with a timer asking for much less than a tick, over enough CPU
# time for tens of ticks.
TICK_PROBE_INTERVAL_S = 0.0005
TICK_PROBE_S = 0.2
# light_and_heavy.py's work is sized for a 4 ms tick (its light line runs about 3 of them).
LIGHT_AND_HEAVY_TICK_S = 0.004
# A line that only calls into another file of the program keeps at most a sample or two.
CALLER_LINE_MAX_S = 0.05


def library_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return [os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib", "purelib", "platlib")]


def is_library_file(path: str) -> bool:
    real = os.path.realpath(path)
    return "site-packages" in real or any(
        real.startswith(directory + os.sep) for directory in library_dirs())


@pytest.mark.parametrize("script", ["echo_run.py", str(ECHO)], ids=["relative", "absolute"])
def test_program_runs_as_main_with_its_argv_path_and_stdio(heatline, script):
    expected = heatline.python(script, *PROGRAM_ARGS, input=STDIN_TEXT, cwd=PROGRAMS)
    outfile = heatline.new_path("profile")
    result = heatline.command("--json", "--outfile", outfile, script, *PROGRAM_ARGS,
                              input=STDIN_TEXT, cwd=PROGRAMS)
    assert result.returncode == expected.returncode == 0, result.stderr
    assert result.stdout == expected.stdout
    assert result.stderr == expected.stderr
    seen = json.loads(result.stdout)
    assert seen["name"] == "__main__" and seen["main_module_is_this"]
    assert seen["argv"] == [script, *PROGRAM_ARGS]
    assert seen["path0"] == str(PROGRAMS)
    assert seen["stdin"] == STDIN_TEXT
    document = json.loads(outfile.read_text())
    assert document["program"] == str(ECHO)
    assert document["argv"] == [script, *PROGRAM_ARGS]


def test_dash_m_runs_a_package_module_as_python_m_does(heatline, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(ECHO, package / "echo.py")
    expected = heatline.python("-m", "pkg.echo", *PROGRAM_ARGS, input=STDIN_TEXT, cwd=tmp_path)
    outfile = heatline.new_path("profile")
    result = heatline.command("--json", "--outfile", outfile, "-m", "pkg.echo", *PROGRAM_ARGS,
                              input=STDIN_TEXT, cwd=tmp_path)
    assert result.returncode == expected.returncode == 0, result.stderr
    assert result.stdout == expected.stdout
    assert result.stderr == expected.stderr
    assert json.loads(outfile.read_text())["program"] == "-m pkg.echo"


def test_python_dash_m_heatline_runs_the_program_as_the_command_does(heatline):
    expected = heatline.python(ECHO, *PROGRAM_ARGS, input=STDIN_TEXT, cwd=PROGRAMS)
    outfile = heatline.new_path("profile")
    result = heatline.python("-m", "heatline", "--json", "--outfile", outfile, ECHO,
                             *PROGRAM_ARGS, input=STDIN_TEXT, cwd=PROGRAMS)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.stdout
    assert result.stderr == expected.stderr
    assert json.loads(outfile.read_text())["schema"] == "heatline-profile/1"


def test_text_report_follows_the_programs_output_on_stdout(heatline):
    result = heatline.command(LIGHT_AND_HEAVY, env=WIDE_TERMINAL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("done\n")
    report = result.stdout[len("done\n"):]
    assert "light_and_heavy.py" in report
    assert "heavy_i" in report, report
    assert_no_heatline_traceback(result.stderr)


def test_outfile_receives_the_text_report_and_stdout_only_the_programs_output(heatline):
    outfile = heatline.new_path("report", ".txt")
    result = heatline.command("--outfile", outfile, LIGHT_AND_HEAVY, env=WIDE_TERMINAL)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    report = outfile.read_text()
    assert "heavy_i" in report and not report.lstrip().startswith("{")


def test_json_document_has_every_field_and_its_numbers_add_up(heatline):
    run = heatline.profile(LINE_SHARES, truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    document = run.profile.document
    assert document["program"] == str(LINE_SHARES)
    assert document["argv"][0] == str(LINE_SHARES) and len(document["argv"]) == 2
    assert document["message"] is None
    assert document["samples"]["cpu"] > 0
    measured_cpu_s = run.truth["one_s"] + run.truth["two_s"] + run.truth["three_s"]
    assert document["elapsed_s"] >= measured_cpu_s  # wall time cannot be less than CPU time
    assert [os.path.realpath(path) for path in document["files"]] == [str(LINE_SHARES)]


def test_cpu_only_leaves_memory_and_gpu_fields_null(heatline):
    run = heatline.profile(LINE_SHARES, options=("--cpu-only",), truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    document = run.profile.document
    assert document["memory_sampling_rate_bytes"] is None
    assert document["timeline"] is None
    totals = document["totals"]
    assert [totals[key] for key in ("alloc_mb", "peak_mb", "copy_mb", "gpu_percent")] == [None] * 4
    lines = run.profile.file(LINE_SHARES)["lines"]
    assert lines
    for line in lines:
        for key in ("alloc_mb", "python_alloc_fraction", "peak_mb", "avg_mb", "timeline",
                    "copy_mb", "copy_mb_s", "gpu_percent", "gpu_mem_avg_mb", "gpu_mem_peak_mb",
                    "leak"):
            assert line[key] is None, (line["line"], key)


def test_default_cpu_sampling_interval_is_five_milliseconds(heatline):
    run = heatline.profile(LINE_SHARES, truth=True)
    assert run.profile["cpu_sampling_interval_s"] == 0.005


@pytest.mark.parametrize("interval_s", SAMPLING_INTERVALS_S)
def test_cpu_sampling_interval_sets_the_cpu_time_between_samples(heatline, interval_s):
    run = heatline.profile(LINE_SHARES, options=("--cpu-sampling-interval", str(interval_s)),
                           truth=True)
    assert run.returncode == 0, run.stderr
    assert run.profile["cpu_sampling_interval_s"] == interval_s
    assert_samples_fit_interval(run.profile, interval_s)


@pytest.mark.parametrize("rate_bytes", MEMORY_SAMPLING_RATES_BYTES)
def test_memory_sampling_rate_sets_the_number_of_memory_samples(heatline, rate_bytes):
    run = heatline.profile(SMALL_OBJECTS, options=("--memory-sampling-rate", str(rate_bytes)),
                           truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    assert run.profile["memory_sampling_rate_bytes"] == rate_bytes
    assert_memory_samples_match(run.profile, run.truth["count"], run.truth["object_bytes"],
                                rate_bytes)


@pytest.fixture(scope="session")
def kernel_tick_s() -> float:
    """The kernel's tick, measured: CPU-time timers fire only at ticks, so a timer asking for
    much less than a tick fires once a tick (4 ms at HZ=250, 10 ms at HZ=100)."""
    stamps: list[float] = []
    previous = signal.signal(signal.SIGPROF, lambda signum, frame: stamps.append(
        time.thread_time()))
    try:
        signal.setitimer(signal.ITIMER_PROF, TICK_PROBE_INTERVAL_S, TICK_PROBE_INTERVAL_S)
        start = time.thread_time()
        while time.thread_time() - start < TICK_PROBE_S:
            pass
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, previous)
    return statistics.median(later - earlier for earlier, later in zip(stamps, stamps[1:]))


def test_reduced_profile_drops_lines_under_one_percent(heatline, kernel_tick_s):
    # Samples come at kernel ticks. The light line (0.5% of the heavy one) must be measured in
    # the full profile (it must run at least a tick) and stay under 1% in the reduced one (its
    # share is its own time give or take a tick at either edge): both hold when the light line
    # runs about 3 ticks and the heavy line 600, so the work is scaled to the measured tick.
    # CPU only: with memory on, the reduced profile also keeps lines that allocate 1% or more of
    # the memory, and the light line's integers are a large share of a tiny total.
    scale = str(max(1.0, kernel_tick_s / LIGHT_AND_HEAVY_TICK_S))
    fine = ("--cpu-only", "--cpu-sampling-interval", str(max(kernel_tick_s, 0.004)))
    full = heatline.command(*fine, LIGHT_AND_HEAVY, scale, env=WIDE_TERMINAL)
    reduced = heatline.command(*fine, "--reduced-profile", LIGHT_AND_HEAVY, scale,
                               env=WIDE_TERMINAL)
    assert full.returncode == reduced.returncode == 0, reduced.stderr
    assert "heavy_i" in full.stdout and "feather_i" in full.stdout, full.stdout
    assert "heavy_i" in reduced.stdout and "feather_i" not in reduced.stdout, reduced.stdout


def test_version_prints_the_installed_version(heatline):
    result = heatline.command("--version")
    assert result.returncode == 0, result.stderr
    assert importlib.metadata.version("heatline") in result.stdout


def test_help_lists_every_option(heatline):
    for flag in ("--help", "-h"):
        result = heatline.command(flag)
        assert result.returncode == 0, result.stderr
        missing = [option for option in OPTIONS if option not in result.stdout]
        assert not missing, result.stdout


def test_off_profiles_only_what_runs_after_heatline_start(heatline):
    run = heatline.profile(TURNS_ON_LATER, options=("--off",), truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    assert run.profile.marked(TURNS_ON_LATER, "before") is None
    after = run.profile.marked(TURNS_ON_LATER, "after")
    assert after is not None
    assert_seconds_match(time_s(after), run.truth["after_s"], "line after heatline.start()")
    # The line before ran as long, with profiling off: none of it is anywhere in the profile.
    assert_seconds_match(run.profile.total_s, run.truth["after_s"], "whole profile")


def test_only_the_programs_own_files_are_profiled_by_default(heatline):
    run = heatline.profile(FILTER_MAIN, truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    files = {os.path.realpath(path) for path in run.profile["files"]}
    assert files == {str(FILTER_MAIN), str(FILTER_HELPER)}
    assert not [path for path in files if is_library_file(path)]
    # Time in another file of the program goes to that file's line, not to the caller.
    helper = run.profile.marked(FILTER_HELPER, "helper")
    assert_seconds_match(time_s(helper), run.truth["helper_s"], "helper line")
    caller = run.profile.marked(FILTER_MAIN, "call-helper")
    assert caller is None or cpu_s(caller) <= CALLER_LINE_MAX_S
    # Time in the standard library and site-packages goes to the program's calling line.
    stdlib = run.profile.marked(FILTER_MAIN, "stdlib")
    assert_seconds_match(time_s(stdlib), run.truth["stdlib_s"], "line calling fractions")
    if run.truth["site_packages_s"] is not None:
        site = run.profile.marked(FILTER_MAIN, "site-packages")
        assert_seconds_match(time_s(site), run.truth["site_packages_s"], "line calling rich")


def test_profile_all_includes_the_standard_library_and_site_packages(heatline):
    run = heatline.profile(FILTER_MAIN, options=("--profile-all",), truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    assert run.profile.file(importlib.util.find_spec("fractions").origin) is not None
    stdlib_dir = os.path.realpath(sysconfig.get_paths()["stdlib"])
    assert time_in_files_under(run.profile, stdlib_dir) >= 0.5 * run.truth["stdlib_s"]
    if run.truth["site_packages_s"] is not None:
        assert run.profile.file(importlib.util.find_spec("rich.markup").origin) is not None
        rich_dir = os.path.dirname(os.path.realpath(importlib.util.find_spec("rich").origin))
        assert time_in_files_under(run.profile, rich_dir) >= 0.5 * run.truth["site_packages_s"]


def time_in_files_under(profile, directory: str) -> float:
    """Seconds in the profile's files under directory (its subdirectories included)."""
    return sum(time_s(entry) for path, entry in profile["files"].items()
               if os.path.realpath(path).startswith(directory + os.sep))


def test_profile_only_keeps_files_whose_path_contains_a_pattern(heatline):
    run = heatline.profile(FILTER_MAIN, options=("--profile-only", "filter_helper"), truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    assert [os.path.realpath(path) for path in run.profile["files"]] == [str(FILTER_HELPER)]
    assert_seconds_match(time_s(run.profile.marked(FILTER_HELPER, "helper")),
                         run.truth["helper_s"], "helper line")
    both = heatline.profile(FILTER_MAIN, options=("--profile-only", "no_such_dir,filter_"),
                            truth=True)
    assert {os.path.realpath(path) for path in both.profile["files"]} == {
        str(FILTER_MAIN), str(FILTER_HELPER)}


def test_profile_exclude_gives_an_excluded_files_time_to_its_caller(heatline):
    run = heatline.profile(FILTER_MAIN, options=("--profile-exclude", "no_such_dir,filter_helper"),
                           truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    assert [os.path.realpath(path) for path in run.profile["files"]] == [str(FILTER_MAIN)]
    caller = run.profile.marked(FILTER_MAIN, "call-helper")
    assert caller is not None
    assert_seconds_match(time_s(caller), run.truth["helper_s"], "line calling the helper")
