"""Call stacks in the profile document (docs/profile-format.md, "stacks"): each call path gets
its own time and memory, library frames are kept, deep stacks are cut at both ends, heatline's
own frames and the launcher's are left out. That the stacks add up to the totals, and to each
program line's figures, is checked for every profile of every test (conftest, Profile)."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess

import pytest

from conftest import (HEATLINE, MB, PROGRAMS, RUN_TIMEOUT_S, Profile, Runner, assert_seconds_match, marked_lines,
                      time_s)

STACKS = PROGRAMS / "stacks_truth.py"
LINES = marked_lines(STACKS)
HEATLINE_PACKAGE = os.path.dirname(importlib.util.find_spec("heatline").origin)
CUT = "[frames cut]"
# The kept block is 32 MB, sampled for sure at the default rate (1 MB); its weight is its size
# over its sampling probability, 1 - exp(-32): exact to 1e-14. What else is live at the peak
# (interpreter objects, a few sampled small blocks) is a few MB at most.
KEPT_MARGIN_MB = 4
# Off-CPU time of a sleep: the helper's 10 ms beat reads the wait, and the line's edges.
SLEEP_MARGIN_S = 0.05


@pytest.fixture(scope="module")
def stacks_run(installed_heatline, tmp_path_factory):
    run = Runner(tmp_path_factory.mktemp("stacks")).profile(STACKS, truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    return run


def resolved(document: dict) -> list[tuple[list[dict], dict]]:
    """Each stack with its frames (root first)."""
    section = document["stacks"]
    return [([section["frames"][i] for i in stack["frames"]], stack) for stack in section["stacks"]]


def is_frame(frame: dict, function: str, path=STACKS) -> bool:
    return frame["function"] == function and frame["file"] == str(path)


def through(document: dict, *functions: str) -> list[tuple[list[dict], dict]]:
    """The stacks that pass through the program's `functions`, in this order (callers first,
    not necessarily adjacent)."""
    found = []
    for frames, stack in resolved(document):
        names = [frame["function"] for frame in frames if frame["file"] == str(STACKS)]
        at = 0
        for name in names:
            if at < len(functions) and name == functions[at]:
                at += 1
        if at == len(functions):
            found.append((frames, stack))
    return found


def inclusive_s(stacks: list[tuple[list[dict], dict]]) -> float:
    return sum(time_s(stack) for _, stack in stacks)


def test_each_call_path_gets_its_own_time(stacks_run):
    document, truth = stacks_run.profile.document, stacks_run.truth
    heavy = through(document, "main", "heavy", "spin")
    light = through(document, "main", "light", "spin")
    assert_seconds_match(inclusive_s(heavy), truth["heavy_s"], "spin called by heavy")
    assert_seconds_match(inclusive_s(light), truth["light_s"], "spin called by light")
    # The same line of spin, reached two ways: two stacks, whose innermost frames are the same.
    for frames, _ in heavy + light:
        assert is_frame(frames[-1], "spin") and frames[-1]["line"] == LINES["spin"], frames[-1]
        assert frames[0]["function"] == "<module>" and frames[0]["program"], frames[0]
    call_lines = {frames[-2]["line"] for frames, _ in heavy} | {frames[-2]["line"] for frames, _ in light}
    assert call_lines == {LINES["heavy-call"], LINES["light-call"]}


def test_library_frames_are_kept_below_the_program(stacks_run):
    document, truth = stacks_run.profile.document, stacks_run.truth
    library = through(document, "main", "library")
    assert_seconds_match(inclusive_s(library), truth["library_s"], "the standard library below library()")
    below = [frame for frames, _ in library for frame in frames[frames.index(next(
        f for f in frames if is_frame(f, "library"))) + 1:]]
    assert any(frame["file"].endswith("fractions.py") and not frame["program"] for frame in below), below
    # The line table puts all of it on the program's calling line.
    line = stacks_run.profile.marked(STACKS, "library-call")
    assert_seconds_match(time_s(line), truth["library_s"], "the line calling fractions")


def test_off_cpu_time_goes_to_the_stack_that_waits(stacks_run):
    sleeping = through(stacks_run.profile.document, "main", "sleeper")
    system_s = sum(stack["system_s"] for _, stack in sleeping)
    assert abs(system_s - stacks_run.truth["sleep_s"]) <= SLEEP_MARGIN_S, system_s
    assert all(frames[-1]["line"] == LINES["sleep"] for frames, _ in sleeping)


def test_memory_live_at_the_peak_is_on_the_stack_that_holds_it(stacks_run):
    document = stacks_run.profile.document
    kept_mb = stacks_run.truth["kept_bytes"] / MB
    allocating = through(document, "main", "allocate")
    assert abs(sum(stack["alloc_mb"] for _, stack in allocating) - kept_mb) <= KEPT_MARGIN_MB
    assert abs(sum(stack["peak_mb"] for _, stack in allocating) - kept_mb) <= KEPT_MARGIN_MB
    assert document["totals"]["peak_mb"] >= kept_mb - KEPT_MARGIN_MB


def test_a_deep_stack_keeps_its_outermost_and_innermost_frames(stacks_run):
    document, truth = stacks_run.profile.document, stacks_run.truth
    deep = through(document, "main", "recurse")
    assert_seconds_match(inclusive_s(deep), truth["recurse_s"], "the recursion")
    section = document["stacks"]
    cut = [(frames, stack) for frames, stack in deep if any(frame["function"] == CUT for frame in frames)]
    assert cut and inclusive_s(cut) >= 0.8 * inclusive_s(deep), "the recursion is 400 calls deep"
    for frames, _ in cut:
        assert len(frames) <= section["max_depth"]
        at = [frame["function"] for frame in frames].index(CUT)
        assert len(frames) - at - 1 == 95, "the innermost frames are all kept"
        assert [frame["function"] for frame in frames[:4]] == ["<module>", "main", "timed", "recurse"]
        assert is_frame(frames[-1], "spin") and is_frame(frames[-2], "recurse")
    # However deep, one cut stack: the recursion does not fill the table.
    assert len(section["stacks"]) < 100, len(section["stacks"])


def test_a_thread_stack_starts_where_the_thread_starts(stacks_run):
    document, truth = stacks_run.profile.document, stacks_run.truth
    in_thread = through(document, "main.<locals>.in_thread", "spin")
    assert_seconds_match(inclusive_s(in_thread), truth["thread_s"], "spin in a thread")
    for frames, _ in in_thread:
        assert frames[0]["file"].endswith("threading.py") and not frames[0]["program"], frames[0]


def assert_no_launcher_frames(document: dict, program_root: str) -> None:
    for frames, _ in resolved(document):
        for frame in frames:
            assert not (frame["file"] or "").startswith(HEATLINE_PACKAGE + os.sep), frame
        if frames:
            assert "runpy" not in (frames[0]["file"] or ""), frames[0]
    roots = {frames[0]["file"] for frames, stack in resolved(document)
             if frames and time_s(stack) > 0.05 and not frames[0]["file"].endswith("threading.py")}
    assert roots == {program_root}, roots


def test_the_launcher_is_not_in_the_stacks(stacks_run, heatline, tmp_path):
    assert_no_launcher_frames(stacks_run.profile.document, str(STACKS))
    # As a module too: runpy's frames ran the module, heatline's ran runpy.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "work.py").write_text("acc = 0\nfor i in range(1_000_000): acc += i\n")
    out = tmp_path / "module.json"
    result = heatline.command("--json", "--outfile", str(out), "-m", "pkg.work", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = heatline_document(out)
    assert_no_launcher_frames(document, str(package / "work.py"))
    # Started by a relative path through ".", as `./.venv/bin/heatline prog.py` is: Python names
    # the launcher's code by that path joined to the working directory, not normalized.
    out = tmp_path / "dotted.json"
    result = subprocess.run(["./bin/heatline", "--json", "--outfile", str(out), str(STACKS), str(tmp_path / "t.json")],
                            cwd=HEATLINE.parent.parent, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    assert_no_launcher_frames(heatline_document(out), str(STACKS))


def heatline_document(path) -> dict:
    profile = Profile(json.loads(path.read_text()))
    profile.assert_well_formed()
    return profile.document


def test_cpu_only_stacks_have_time_and_no_memory(heatline):
    run = heatline.profile(STACKS, options=("--cpu-only",), truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    heavy = through(run.profile.document, "main", "heavy", "spin")
    assert_seconds_match(inclusive_s(heavy), run.truth["heavy_s"], "spin called by heavy, --cpu-only")
    assert all(stack["alloc_mb"] is None and stack["peak_mb"] is None for _, stack in heavy)
