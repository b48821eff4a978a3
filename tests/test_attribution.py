"""Attribution rules (issue 13): what a report charges to which line, as a user means it.

`heatline -m TOOL` (pytest, unittest) profiles the current directory's code, which the tool
runs, not the tool: a small package and its tests, run by each tool, must show the package's hot
function with the time it measured itself. Workers of a pool that wait for work are idle: their
waiting is reported apart, not as time that drowns the program's lines.
"""
from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest

import await_check
from conftest import MB, PROGRAMS, Profile, assert_seconds_match, marked_lines, time_s

# About 0.3-0.6 s of pure Python on the development machine: dozens of samples.
CRUNCH_ITERATIONS = 2_000_000

WORK = '''\
def crunch(n):
    total = 0
    for i in range(n):
        total += i * i % 7  # line: crunch
    return total
'''

TESTS = f'''\
import json
import os
import time
import unittest

from shapes.work import crunch


class CrunchTest(unittest.TestCase):
    def test_crunch(self):
        start = time.thread_time()
        self.assertGreater(crunch({CRUNCH_ITERATIONS}), 0)
        spent = time.thread_time() - start
        with open(os.environ["HEATLINE_TEST_TRUTH"], "w") as truth:
            json.dump({{"crunch_s": spent}}, truth)
'''


def make_project(root: Path) -> Path:
    """A package (shapes) and its tests (tests/, a package too, as unittest discovery wants)."""
    (root / "shapes").mkdir(parents=True)
    (root / "shapes" / "__init__.py").write_text("")
    (root / "shapes" / "work.py").write_text(WORK)
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_work.py").write_text(TESTS)
    return root


TOOLS = {
    "pytest": ("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"),
    "unittest": ("-m", "unittest", "discover", "-s", "tests", "-t", "."),
}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_a_tool_run_as_a_module_profiles_the_code_it_runs(heatline, tmp_path, tool):
    project = make_project(tmp_path / "project")
    truth, outfile = tmp_path / "truth.json", tmp_path / "profile.json"
    result = heatline.command("--json", "--outfile", outfile, *TOOLS[tool], cwd=project,
                              env={**os.environ, "HEATLINE_TEST_TRUTH": str(truth)})
    assert result.returncode == 0, result.stdout + result.stderr
    profile = Profile(json.loads(outfile.read_text()))
    profile.assert_well_formed()
    document = profile.document
    assert document["program"] == f"-m {tool}"
    assert document["argv"][0] == f"-m {tool}" and document["argv"][1:] == list(TOOLS[tool][2:])
    work = project / "shapes" / "work.py"
    # Only the project's files are the program: none of the tool's.
    assert {os.path.realpath(path) for path in document["files"]} <= {
        str(work), str(project / "tests" / "test_work.py"), str(project / "shapes" / "__init__.py"),
        str(project / "tests" / "__init__.py")}, sorted(document["files"])
    crunch = profile.function(work, "crunch")
    assert crunch is not None, sorted(document["files"])
    assert_seconds_match(time_s(crunch), json.loads(truth.read_text())["crunch_s"], "crunch")
    # The hot line leads the report: the line the user would go and change.
    lines = [(time_s(line), path, line["line"]) for path, entry in document["files"].items()
             for line in entry["lines"]]
    assert max(lines)[1:] == (str(work), marked_lines(work)["crunch"]), sorted(lines)[-3:]


def test_a_tool_run_where_there_is_no_python_code_is_itself_the_program(heatline, tmp_path):
    """`cd /tmp && heatline -m timeit ...`: no code of the user's to profile, so the module is."""
    empty = tmp_path / "empty"
    empty.mkdir()
    outfile = tmp_path / "profile.json"
    result = heatline.command("--json", "--outfile", outfile, "-m", "timeit", "-n", "3",
                              "sorted(range(600000), key=lambda x: -x)", cwd=empty)
    assert result.returncode == 0, result.stderr
    profile = Profile(json.loads(outfile.read_text()))
    profile.assert_well_formed()
    files = {os.path.basename(path): entry for path, entry in profile.document["files"].items()}
    assert "timeit.py" in files, sorted(profile.document["files"])
    assert sum(time_s(line) for line in files["timeit.py"]["lines"]) > 0.5 * profile.total_s


IDLE_POOL = PROGRAMS / "idle_pool.py"
FILE_SHARE_MIN = 0.8


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_workers_waiting_for_work_are_idle_not_time(heatline, mode):
    """A pool whose workers mostly wait: their waiting is idle time, apart from the time, so the
    program's file keeps nearly all of the time, the burning line its CPU time and the main
    thread's wait for the results its wall time."""
    run = heatline.profile(IDLE_POOL, mode, truth=True)
    assert run.returncode == 0, run.stderr
    profile, truth = run.profile, run.truth
    profile.assert_well_formed()
    assert_seconds_match(time_s(profile.marked(IDLE_POOL, "burn")), truth["burn_s"], "burn line")
    wait = profile.marked(IDLE_POOL, "wait")
    assert_seconds_match(time_s(wait) + wait["gil_wait_s"], truth["wait_s"], "the main thread's wait")
    assert wait["idle_s"] == 0  # the main thread's wait is where the program waited
    file_s = sum(time_s(line) for line in profile.file(IDLE_POOL)["lines"])
    # The program's file holds the time, less what the workers spend on no line of it (their
    # own loop, pickling: 24-58 ms of 0.62-0.67 s here, 91-96%); when the workers' waiting
    # counted as time, the file had 51% of a Pool run.
    assert file_s >= FILE_SHARE_MIN * profile.total_s, (file_s, profile.document["totals"])
    outside_s = profile.document["totals"]["outside_program_s"]
    assert abs(file_s + outside_s - profile.total_s) <= 0.01 * profile.total_s, (file_s, outside_s)
    idle_s = profile.document["totals"]["idle_s"]
    least_idle_s = 0.5 * truth["idle_workers"] * truth["wait_s"]
    assert least_idle_s <= idle_s <= 20 * profile.document["elapsed_s"], (idle_s, truth)
    # The text report gives idle time a line of its header, apart from the time.
    assert re.search(r"^idle +\S+ .*waiting for work or for another thread", rendered(profile.document), re.M)
    # --idle counts it as system time again, where the workers wait.
    counted = heatline.profile(IDLE_POOL, mode, options=("--idle",), truth=True)
    assert counted.returncode == 0, counted.stderr
    counted.profile.assert_well_formed()
    totals = counted.profile.document["totals"]
    assert totals["idle_s"] == 0
    assert totals["system_s"] >= least_idle_s + 0.5 * counted.truth["wait_s"], (totals, counted.truth)


TRANSIENT = PROGRAMS / "transient_truth.py"
# A memory sample every 64 KiB: the kept lists (856 bytes each) give about 1,300 samples, so a
# line's MB is within 15% of its truth at five standard deviations.
TRANSIENT_RATE = 65536


def test_small_blocks_freed_at_once_stay_out_of_the_lines_memory(heatline):
    """hot_arith makes hundreds of MB of integers that each live a moment: the document keeps
    them (alloc_mb, and transient_mb beside it), the reports leave them out of the lines' alloc
    MB and of the top lines by memory; the lists that last keep all their MB."""
    run = heatline.profile(TRANSIENT, options=("--memory-sampling-rate", TRANSIENT_RATE), truth=True)
    assert run.returncode == 0, run.stderr
    profile = run.profile
    profile.assert_well_formed()
    arith = profile.function(TRANSIENT, "hot_arith")
    assert arith["alloc_mb"] > 20, arith  # the volume stays in the document...
    assert arith["alloc_mb"] - arith["transient_mb"] < 5, arith  # ...and goes at once
    keep = profile.marked(TRANSIENT, "keep")
    kept_mb = run.truth["kept_bytes"] / MB
    assert abs(keep["alloc_mb"] - kept_mb) <= 0.15 * kept_mb, (keep["alloc_mb"], kept_mb)
    assert keep["transient_mb"] <= 0.05 * keep["alloc_mb"], keep
    totals = profile.document["totals"]
    assert totals["transient_mb"] >= arith["transient_mb"] - 1e-6
    # The text report: hot_arith's lines show no MB allocated and are not among the top lines.
    report = heatline.command("view", heatline.tmp_path / "profile-0.json", "--cli",
                              env={**os.environ, "COLUMNS": "200"}).stdout
    top = report.split("Top lines by memory", 1)[1].split("\n\n", 1)[0]
    assert "kept[i] = [i] * 100" in top
    assert "acc += i * 3 % 7" not in top and "i += 1" not in top, top


AWAIT = PROGRAMS / "await_truth.py"


def test_await_time_lands_on_the_await_lines_of_the_waiting_tasks(heatline):
    """asyncio tasks awaiting sleeps, alone and together (gather, TaskGroup, asyncio.wait,
    wait_for, a task awaited), and a loop of compute and awaits, in the main thread and in a thread
    of its own: each await line gets its tasks' shares of the loop's wait as await time (a part of
    its system time), the asyncio.run line keeps almost none, and the compute line its CPU time
    (tests/await_check.py; before await time, all of it was on the asyncio.run line)."""
    run = heatline.profile(AWAIT, truth=True)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    await_check.check(run.profile.document, run.truth)
    # The text report says it in its header and gives the await lines a column of seconds.
    text = rendered(run.profile.document)
    assert re.search(r"^await +\S+ .*of the system time was asyncio tasks waiting", text, re.M), text
    number = marked_lines(AWAIT)["gather-long"]
    header, row = table_row(text, AWAIT, number)
    assert "await" in header.split(), header
    assert re.search(r"\b(6\d\d|7\d\d) ms\b", row), row  # the long task's 0.70 s of await


def rendered(document: dict) -> str:
    """The text report of a document, plain, 120 columns wide."""
    import heatline.report

    out = io.StringIO()
    heatline.report.render_text(document, out, color=False, width=120)
    return out.getvalue()


def table_row(text: str, program, number: int) -> tuple[str, str]:
    """The header of the program file's line table, and the row of line `number`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(str(program)) or
                 line.startswith(os.path.relpath(program)) or program.name + "  " in line)
    header = next(line for line in lines[start:] if line.startswith("Line "))
    row = next(line for line in lines[start:] if re.match(rf"\s*{number}\s", line))
    return header, row
