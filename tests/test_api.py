"""The Python API (heatline.start/stop, heatline.profiling, @heatline.profile), in a plain
python process and under the heatline command, and the `profile` builtin of the command."""
from __future__ import annotations

import importlib.util
import json
import os
import re

import pytest

import heatline
from heatline.report import filter_profiled

from conftest import (PROGRAMS, Profile, Runner, assert_memory_samples_match,
                      assert_no_heatline_traceback, assert_samples_fit_interval,
                      assert_seconds_match, cpu_s, marked_lines,
                      time_s)

API = PROGRAMS / "api_session.py"
API_DECORATOR = PROGRAMS / "api_decorator.py"
API_OPTIONS = PROGRAMS / "api_options.py"
BUILTIN = PROGRAMS / "builtin_profile.py"
FILTER_HELPER = PROGRAMS / "filter_helper.py"
SMALL_OBJECTS = PROGRAMS / "small_objects.py"

# api_options.py's settings.
API_INTERVAL_S = 0.02
API_SMALL_RATE_BYTES = 128 * 1024
DEFAULT_RATE_BYTES = 1 << 20
# Wide enough that a text report never cuts the start of a short source line.
WIDE_TERMINAL = {**os.environ, "COLUMNS": "200"}
# What tells the two loop lines of api_decorator.py apart in a text report.
DECORATED_SOURCE = "(acc * 41 + i) % 1000037"
UNDECORATED_SOURCE = "(acc * 37 + i) % 1000033"
# The first line of a text report.
REPORT_TITLE = "heatline profile of"


def run_api_program(heatline, launcher: str, program, *args) -> tuple[dict, str]:
    """program [args] OUT under plain python or under `heatline --off`: what it wrote to OUT,
    and its stderr."""
    out = heatline.new_path("api")
    if launcher == "python":
        result = heatline.python(program, *args, out, env=WIDE_TERMINAL)
    else:
        result = heatline.command("--off", "--json", "--outfile", heatline.new_path("cli"),
                                  program, *args, out)
    assert result.returncode == 0, result.stderr
    written = json.loads(out.read_text())
    for document in written.get("profiles", {"profile": written.get("profile")}).values():
        Profile(document).assert_well_formed()
    return written, result.stderr


@pytest.mark.parametrize("launcher", ["python", "heatline --off"])
@pytest.mark.parametrize("mode", ["start_stop", "context"])
def test_session_profiles_only_the_code_between_start_and_stop(heatline, mode, launcher):
    profile = Profile(run_api_program(heatline, launcher, API, mode)[0]["profile"])
    assert profile["program"] == str(API)
    assert profile["profiled_functions"] is None
    inside = profile.marked(API, "inside")
    assert inside is not None and inside["python_s"] > 0
    assert profile.marked(API, "outside") is None


@pytest.mark.parametrize("launcher", ["python", "heatline --off"])
def test_decorated_function_alone_is_reported_once_anything_is_decorated(heatline, launcher):
    written, stderr = run_api_program(heatline, launcher, API_DECORATOR)
    assert written["name"] == "decorated"
    without_session, within_session = written["results"]
    assert without_session == within_session
    profile = Profile(written["profile"])
    assert_only_decorated_is_reported(profile, API_DECORATOR, "decorated", ("undecorated",))
    # The call made before the session started belongs to no session's profile.
    assert_seconds_match(time_s(profile.marked(API_DECORATOR, "decorated")),
                         written["within_s"], "decorated call inside the session")
    if launcher == "python":
        # With no session running, the decorator profiled the first call: its report is
        # printed to stderr at exit, restricted to the decorated function.
        assert stderr.count(REPORT_TITLE) == 1, stderr
        assert "Only functions decorated with @profile are shown: decorated." in stderr
        assert DECORATED_SOURCE in stderr and UNDECORATED_SOURCE not in stderr, stderr
        assert_seconds_match(reported_python_s(stderr), written["without_s"],
                             "decorated call before the session (at-exit report)")
    else:
        assert REPORT_TITLE not in stderr, "the command reports to its --outfile"
    assert_no_heatline_traceback(stderr)


def reported_python_s(report: str) -> float:
    """The Python seconds of a text report's summary ("time     Python 589 ms, native ...")."""
    match = re.search(r"^time\s+Python ([0-9.]+) (ms|s)\b", report, re.MULTILINE)
    assert match, report
    return float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)


@pytest.fixture(scope="module")
def option_sessions(installed_heatline, tmp_path_factory):
    """api_options.py in plain python: one API session per option (see the program)."""
    written, _ = run_api_program(Runner(tmp_path_factory.mktemp("api_options")), "python",
                                 API_OPTIONS)
    profiles = {name: Profile(document) for name, document in written["profiles"].items()}
    return profiles, written["truth"]


def test_api_cpu_sampling_interval_sets_the_cpu_time_between_samples(option_sessions):
    profile = option_sessions[0]["interval"]
    assert profile["cpu_sampling_interval_s"] == API_INTERVAL_S
    assert_samples_fit_interval(profile, API_INTERVAL_S)


def test_api_cpu_only_leaves_memory_null(option_sessions):
    profile = option_sessions[0]["cpu_only"]
    assert profile["memory_sampling_rate_bytes"] is None
    assert profile["samples"]["memory"] is None
    assert profile["totals"]["alloc_mb"] is None
    line = profile.marked(SMALL_OBJECTS, "objects")
    assert line is not None and line["alloc_mb"] is None, line


@pytest.mark.parametrize("session, rate_bytes", [("rate_default", DEFAULT_RATE_BYTES),
                                                 ("rate_small", API_SMALL_RATE_BYTES)])
def test_api_memory_sampling_rate_sets_the_number_of_memory_samples(option_sessions, session,
                                                                    rate_bytes):
    profile, truth = option_sessions[0][session], option_sessions[1]["objects"]
    assert profile["memory_sampling_rate_bytes"] == rate_bytes
    assert_memory_samples_match(profile, truth["count"], truth["object_bytes"], rate_bytes)


def test_api_profile_only_and_exclude_choose_the_files(option_sessions):
    sessions, truth = option_sessions
    only = sessions["only"]
    assert [os.path.realpath(path) for path in only["files"]] == [str(FILTER_HELPER)]
    assert_seconds_match(time_s(only.marked(FILTER_HELPER, "helper")), truth["only_helper_s"],
                         "helper line (profile_only)")
    excluded = sessions["exclude"]
    assert [os.path.realpath(path) for path in excluded["files"]] == [str(API_OPTIONS)]
    assert_seconds_match(time_s(excluded.marked(API_OPTIONS, "call-helper")),
                         truth["exclude_helper_s"], "line calling the excluded helper")


def test_api_profile_all_includes_the_standard_library(option_sessions):
    profile = option_sessions[0]["all"]
    fractions_file = profile.file(importlib.util.find_spec("fractions").origin)
    assert fractions_file is not None, list(profile["files"])
    assert cpu_s(fractions_file) > 0


def test_unknown_api_option_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="unknown heatline option.*cpu_sampling_interva\\b"):
        heatline.start(cpu_sampling_interva=0.01)
    assert not heatline.is_running()
    with pytest.raises(TypeError, match="unknown heatline option.*bogus"):
        with heatline.profiling(bogus=1):
            pass
    assert not heatline.is_running()


def test_stop_without_start_is_a_runtime_error_saying_what_to_do():
    with pytest.raises(RuntimeError, match=r"heatline is not running: call heatline\.start\(\)"):
        heatline.stop()


@pytest.mark.parametrize("program_args", [(), ("--import",)], ids=["builtin", "heatline.profile"])
def test_profile_decorator_under_the_command_reports_only_decorated_functions(heatline,
                                                                             program_args):
    run = heatline.profile(BUILTIN, *program_args)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    # The document keeps every line the command measured; reports show the decorated function's.
    assert run.profile.marked(BUILTIN, "undecorated") is not None
    assert_only_decorated_is_reported(run.profile, BUILTIN, "decorated",
                                      ("undecorated", "module"))


def assert_only_decorated_is_reported(document: Profile, program, decorated: str,
                                      elsewhere: tuple[str, ...]) -> None:
    """The document keeps every line (it is lossless) and lists the decorated function; the
    reports' view of it keeps only that function's lines."""
    marks = marked_lines(program)
    profile = Profile(filter_profiled(document.document))
    functions = profile["profiled_functions"]
    assert functions is not None and len(functions) == 1, functions
    [function] = functions
    assert function["name"] == decorated
    assert os.path.realpath(function["file"]) == str(program), function
    assert function["first_line"] <= marks[decorated] <= function["last_line"], function
    line = profile.marked(program, decorated)
    assert line is not None and line["python_s"] > 0
    for name in elsewhere:
        assert not function["first_line"] <= marks[name] <= function["last_line"], name
        assert profile.marked(program, name) is None, name
    reported = profile.file(program)["lines"]
    outside = [entry["line"] for entry in reported
               if not function["first_line"] <= entry["line"] <= function["last_line"]]
    assert not outside, f"lines outside the decorated function: {outside}"
