"""heatline merge: profiles of one program from many runs added up into one document
(docs/profile-format.md, "Merged documents"; heatline.report.merge).

Real documents come from the heatline command running tests/programs/work_by_size.py at two
sizes; the rules for stacks are also checked on small hand-built sections, whose frames are
listed in different orders in the two inputs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from conftest import COUNTERS, PROGRAMS, Profile, Runner, assert_no_heatline_traceback, marked_lines

from heatline.report.push import SUMMED_KEYS
from heatline.report.stacks import merge_stacks

PROGRAM = PROGRAMS / "work_by_size.py"
# The merge adds the same numbers the test adds, in the same order: only float rounding differs.
SUM_TOLERANCE = 1e-9
SUMMED_LINE_KEYS = (*COUNTERS, "alloc_mb", "copy_mb")


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=SUM_TOLERANCE, abs_tol=SUM_TOLERANCE)


def profile_of(heatline: Runner, size_mb: int) -> tuple[Path, dict[str, Any]]:
    run = heatline.profile(PROGRAM, str(size_mb))
    assert run.returncode == 0, run.stderr
    path = heatline.new_path(f"run{size_mb}")
    path.write_text(json.dumps(run.profile.document))
    return path, run.profile.document


def merge(heatline: Runner, *paths: Path) -> tuple[Any, Path]:
    out = heatline.new_path("merged")
    result = heatline.command("merge", *paths, "-o", out)
    return result, out


def lines_of(document: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {line["line"]: line for line in document["files"][str(PROGRAM)]["lines"]}


def stack_sums(document: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, float]]:
    """Each stack's summed values, keyed by its frames' identities (root first)."""
    section = document["stacks"]
    frames = section["frames"]
    sums: dict[tuple[Any, ...], dict[str, float]] = {}
    for stack in section["stacks"]:
        key = tuple((frames[i]["function"], frames[i]["file"], frames[i]["line"], frames[i]["first_line"])
                    for i in stack["frames"])
        sums[key] = {k: stack.get(k) or 0 for k in SUMMED_KEYS}
    return sums


@pytest.fixture
def two_runs(heatline: Runner) -> tuple[list[Path], list[dict[str, Any]]]:
    small_path, small = profile_of(heatline, 4)
    big_path, big = profile_of(heatline, 16)
    return [small_path, big_path], [small, big]


def test_merged_sums_are_the_sums_of_the_runs_and_peaks_stay_per_run(heatline: Runner, two_runs) -> None:
    paths, (small, big) = two_runs
    result, out = merge(heatline, *paths)
    assert result.returncode == 0, result.stderr
    merged = json.loads(out.read_text())
    Profile(merged).assert_well_formed()

    for key in (*COUNTERS, "outside_program_s", "alloc_mb", "copy_mb"):
        assert close(merged["totals"][key], small["totals"][key] + big["totals"][key]), key
    for key in ("cpu", "memory"):
        assert merged["samples"][key] == small["samples"][key] + big["samples"][key], key
    assert close(merged["elapsed_s"], small["elapsed_s"] + big["elapsed_s"])
    small_lines, big_lines = lines_of(small), lines_of(big)
    for number, line in lines_of(merged).items():
        for key in SUMMED_LINE_KEYS:
            expected = sum((lines.get(number) or {}).get(key) or 0 for lines in (small_lines, big_lines))
            assert close(line[key], expected), (number, key)

    # 16 MB of blocks against 4: the big run peaks highest, and its peak is the merged one, not
    # the sum; each run keeps its own beside its path.
    assert big["totals"]["peak_mb"] > small["totals"]["peak_mb"]
    assert merged["totals"]["peak_mb"] == big["totals"]["peak_mb"]
    assert merged["memory_peak"] == dict(big["memory_peak"], run=1)
    assert merged["timeline"] == big["timeline"]
    assert [run["path"] for run in merged["merged_from"]] == [str(path) for path in paths]
    assert [run["peak_mb"] for run in merged["merged_from"]] == [small["totals"]["peak_mb"], big["totals"]["peak_mb"]]
    assert [run["argv"] for run in merged["merged_from"]] == [small["argv"], big["argv"]]
    assert [process["run"] for process in merged["processes"]] == [0, 1]
    blocks = marked_lines(PROGRAM)["blocks"]
    assert lines_of(merged)[blocks]["peak_mb"] == lines_of(big)[blocks]["peak_mb"]

    total_s = sum(merged["totals"][key] for key in ("python_s", "native_s", "system_s"))
    for line in lines_of(merged).values():
        assert abs(line["python_percent"] - line["python_s"] / total_s * 100) <= 1e-6


def test_stacks_of_real_runs_add_up(heatline: Runner, two_runs) -> None:
    paths, documents = two_runs
    assert all(document["stacks"]["stacks"] for document in documents)
    result, out = merge(heatline, *paths)
    assert result.returncode == 0, result.stderr
    merged = stack_sums(json.loads(out.read_text()))
    inputs = [stack_sums(document) for document in documents]
    assert set(merged) == set(inputs[0]) | set(inputs[1])
    for key, values in merged.items():
        for value in SUMMED_KEYS:
            assert close(values[value], sum(s.get(key, {}).get(value, 0) for s in inputs)), (key, value)


def test_the_merged_profile_is_shown_by_view(heatline: Runner, two_runs) -> None:
    paths, _ = two_runs
    result, out = merge(heatline, *paths)
    assert result.returncode == 0, result.stderr
    shown = heatline.command("view", out)
    assert shown.returncode == 0, shown.stderr
    assert "2 merged by heatline merge" in shown.stdout
    assert "work_by_size.py" in shown.stdout
    page = heatline.new_path("merged", ".html")
    html = heatline.command("view", "--html", "--outfile", page, out)
    assert html.returncode == 0 and "2 merged by heatline merge" in page.read_text(), html.stderr


def test_a_merge_of_merges_lists_every_run_once(heatline: Runner, two_runs) -> None:
    paths, (small, big) = two_runs
    for path, document, warning in zip(paths, (small, big), ("small warned", "big warned")):
        path.write_text(json.dumps(dict(document, warnings=[warning])))
    _, first = merge(heatline, *paths)
    result, out = merge(heatline, first, paths[0])
    assert result.returncode == 0, result.stderr
    merged = json.loads(out.read_text())
    assert [run["path"] for run in merged["merged_from"]] == [str(paths[0]), str(paths[1]), str(paths[0])]
    assert [process["run"] for process in merged["processes"]] == [0, 1, 2]
    assert merged["memory_peak"]["run"] == 1
    assert merged["warnings"] == [f"run 1 ({paths[0]}): small warned", f"run 2 ({paths[1]}): big warned",
                                  f"run 3 ({paths[0]}): small warned"]
    assert close(merged["totals"]["alloc_mb"], 2 * small["totals"]["alloc_mb"] + big["totals"]["alloc_mb"])


def frame(function: str, line: int) -> dict[str, Any]:
    return {"function": function, "file": "/p/prog.py", "line": line, "first_line": 1, "program": True}


def stack(frames: list[int], python_s: float, alloc_mb: float, peak_mb: float) -> dict[str, Any]:
    return {"frames": frames, "samples": round(python_s * 100), "python_s": python_s, "native_s": 0.0,
            "system_s": 0.0, "gil_wait_s": 0.0, "alloc_mb": alloc_mb, "copy_mb": 0.0, "peak_mb": peak_mb}


def document(frames: list[dict[str, Any]], stacks: list[dict[str, Any]]) -> dict[str, Any]:
    """As much of a document as merging stacks reads."""
    return {"memory_sampling_rate_bytes": 1 << 20,
            "stacks": {"max_depth": 128, "limit": 65536, "merged": {"credits": 0, "seconds": 0.0, "alloc_mb": 0.0},
                       "frames": frames, "stacks": stacks}}


def test_stacks_merge_by_frame_identity() -> None:
    # main -> work, in both runs, its frames listed in another order; `work` on another line is
    # another frame, so another stack.
    a = document([frame("<module>", 9), frame("work", 4)],
                [stack([0, 1], 0.5, 2.0, 1.0), stack([0], 0.1, 0.0, 0.0)])
    b = document([frame("work", 4), frame("<module>", 9), frame("work", 5)],
                [stack([1, 0], 0.25, 6.0, 3.0), stack([1, 2], 0.2, 1.0, 0.5)])

    merged = merge_stacks([a, b], peak_from=b)

    names = [(f["function"], f["line"]) for f in merged["frames"]]
    assert sorted(names) == [("<module>", 9), ("work", 4), ("work", 5)]
    by_path = {tuple(names[i] for i in s["frames"]): s for s in merged["stacks"]}
    both = by_path[(("<module>", 9), ("work", 4))]
    assert both["python_s"] == 0.75 and both["samples"] == 75 and both["alloc_mb"] == 8.0
    # Peaks are the highest run's (b), not sums: 0 for a stack b does not have.
    assert both["peak_mb"] == 3.0
    assert by_path[(("<module>", 9),)]["peak_mb"] == 0.0
    assert by_path[(("<module>", 9), ("work", 5))]["peak_mb"] == 0.5
    assert sum(s["peak_mb"] for s in merged["stacks"]) == 3.5


def test_profiles_of_different_programs_are_refused(heatline: Runner, two_runs) -> None:
    paths, _ = two_runs
    other = heatline.profile(PROGRAMS / "instant.py")
    other_path = heatline.new_path("other")
    other_path.write_text(json.dumps(other.profile.document))
    result, out = merge(heatline, paths[0], other_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "one program only" in result.stderr, result.stderr
    assert not out.exists()


@pytest.mark.parametrize("problem", ["missing", "not JSON", "another schema", "one profile"])
def test_a_bad_input_is_one_line_and_nothing_is_written(heatline: Runner, two_runs, problem: str) -> None:
    paths, document = two_runs
    bad = heatline.tmp_path / "bad.json"
    if problem == "not JSON":
        bad.write_text("{not json")
    elif problem == "another schema":
        bad.write_text(json.dumps(dict(document[0], schema="heatline-profile/9")))
    inputs = [paths[0]] if problem == "one profile" else [paths[0], bad]
    result, out = merge(heatline, *inputs)
    assert result.returncode == 2, result.stderr
    assert_no_heatline_traceback(result.stderr)
    assert result.stderr.strip().splitlines()[-1].startswith(("heatline", "usage")), result.stderr
    assert not out.exists()
    if problem != "one profile":
        assert result.stderr.count("\n") == 1, result.stderr


def test_an_unwritable_outfile_is_refused_before_reading(heatline: Runner, two_runs) -> None:
    paths, _ = two_runs
    result = heatline.command("merge", *paths, "-o", heatline.tmp_path / "no-such-dir" / "all.json")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no such directory" in result.stderr, result.stderr
    assert_no_heatline_traceback(result.stderr)
