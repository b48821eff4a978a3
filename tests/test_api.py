"""The Python API (heatline.start/stop, heatline.profiling, @heatline.profile), in a plain
python process and under the heatline command, and the `profile` builtin of the command."""
from __future__ import annotations

import importlib.util
import json
import os

import pytest

from heatline.report import filter_profiled

from conftest import PROGRAMS, Profile, cpu_s, marked_lines

API = PROGRAMS / "api_session.py"
API_DECORATOR = PROGRAMS / "api_decorator.py"
BUILTIN = PROGRAMS / "builtin_profile.py"


def run_api_program(heatline, launcher: str, program, *args) -> dict:
    """program [args] OUT under plain python or under `heatline --off`; what it wrote to OUT."""
    out = heatline.new_path("api")
    if launcher == "python":
        result = heatline.python(program, *args, out)
    else:
        result = heatline.command("--off", "--json", "--outfile", heatline.new_path("cli"),
                                  program, *args, out)
    assert result.returncode == 0, result.stderr
    written = json.loads(out.read_text())
    Profile(written["profile"]).assert_well_formed()
    return written


@pytest.mark.parametrize("launcher", ["python", "heatline --off"])
@pytest.mark.parametrize("mode", ["start_stop", "context"])
def test_session_profiles_only_the_code_between_start_and_stop(heatline, mode, launcher):
    profile = Profile(run_api_program(heatline, launcher, API, mode)["profile"])
    assert profile["program"] == str(API)
    assert profile["profiled_functions"] is None
    inside = profile.marked(API, "inside")
    assert inside is not None and inside["python_s"] > 0
    assert profile.marked(API, "outside") is None


@pytest.mark.parametrize("launcher", ["python", "heatline --off"])
def test_decorated_function_alone_is_reported_once_anything_is_decorated(heatline, launcher):
    written = run_api_program(heatline, launcher, API_DECORATOR)
    assert written["name"] == "decorated"
    without_session, within_session = written["results"]
    assert without_session == within_session
    assert_only_decorated_is_reported(Profile(written["profile"]), API_DECORATOR, "decorated",
                                      ("undecorated",))


def test_api_options_reach_the_session(heatline):
    profile = Profile(run_api_program(heatline, "python", API, "options")["profile"])
    assert profile["cpu_sampling_interval_s"] == 0.005
    fractions_file = profile.file(importlib.util.find_spec("fractions").origin)
    assert fractions_file is not None, list(profile["files"])
    assert cpu_s(fractions_file) > 0


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
