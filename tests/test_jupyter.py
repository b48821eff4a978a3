"""The IPython and Jupyter magics (heatline.jupyter): %heatline and %%heatline in IPython's
InteractiveShell, and in a notebook executed by nbclient on a real ipykernel.

The shell runs in a subprocess (tests/programs/ipython_cells.py) and the notebook in its kernel's
process: the magics start the engine in the process that runs the cells, never in pytest's.
"""
from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys

import pytest

from heatline.report import render_text

from conftest import PROGRAMS, RUN_TIMEOUT_S, SUM_ABSOLUTE_TOLERANCE_S, Runner, close, time_s
from test_html import TIME_KEYS, Flame, Page, assert_widths_are_the_inclusive_sums, browser  # noqa: F401 (a fixture)

CELLS_PROGRAM = PROGRAMS / "ipython_cells.py"
HEATLINE_DIR = os.path.dirname(importlib.util.find_spec("heatline").origin)
# Wide enough that a text report never cuts a cell's line.
REPORT_COLUMNS = 200

# The body of a %%heatline cell: its loop takes its time, its last line holds BLOB_MB. With the
# %%heatline line as line 1, the loop is on cell lines 4 and 5 and the bytearray on line 6. The
# loop's busier line takes about 0.3 s, three times what zeroing the bytearray's pages takes.
BLOB_MB = 100
HOT_BODY = [
    "small = sum(range(10))",
    "total = 0",
    "for i in range(5_000_000):",
    "    total += i * i",
    f"blob = bytearray({BLOB_MB} * 2**20)",
]
HOT_LOOP_LINES = {4, 5}
BLOB_LINE = 6
# One block far above the sampling rate is always sampled, at its own size: the margin only
# leaves room for the line's small allocations around it.
BLOB_MARGIN_MB = 0.1 * BLOB_MB

WORK_CELL = "def work(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n    return total"


def run_cells(heatline: Runner, cells: list[str]) -> list[dict]:
    """What each cell showed in an InteractiveShell: stdout, stderr, displayed mimebundles,
    success. Runs in the test's directory, so no test file is the program."""
    cells_path = heatline.new_path("cells")
    cells_path.write_text(json.dumps(cells))
    shown_path = heatline.new_path("shown")
    result = heatline.python(CELLS_PROGRAM, cells_path, shown_path, cwd=heatline.tmp_path,
                             env={**os.environ, "COLUMNS": str(REPORT_COLUMNS)})
    assert result.returncode == 0, result.stderr
    return json.loads(shown_path.read_text())


def loaded(*cells: str) -> list[str]:
    return ["%load_ext heatline", *cells]


def assert_cell_lines_are_the_typed_lines(file: dict, cell_text: str) -> None:
    typed = cell_text.splitlines()
    for line in file["lines"]:
        assert line["source"] == typed[line["line"] - 1], (line["line"], line["source"])


def assert_hot_cell_measured(document: dict, label: str) -> None:
    """HOT_BODY's cell: its loop has the most time of the cell's lines, its bytearray line holds
    BLOB_MB and is where the footprint peaked."""
    cell = document["files"][label]
    hottest = max(cell["lines"], key=time_s)
    assert hottest["line"] in HOT_LOOP_LINES, [(line["line"], time_s(line)) for line in cell["lines"]]
    blob = next(line for line in cell["lines"] if line["line"] == BLOB_LINE)
    assert abs(blob["alloc_mb"] - BLOB_MB) <= BLOB_MARGIN_MB, blob
    assert blob["peak_mb"] >= BLOB_MB - BLOB_MARGIN_MB, blob
    assert (document["memory_peak"]["file"], document["memory_peak"]["line"]) == (label, BLOB_LINE)


def test_cell_magic_reports_the_cells_own_lines_with_their_time_and_memory(heatline):
    doc_path = heatline.new_path("cell")
    cell = f"%%heatline --cli --json-out {doc_path}\n" + "\n".join(HOT_BODY)
    shown = run_cells(heatline, loaded(cell))[1]
    assert shown["success"], shown
    document = json.loads(doc_path.read_text())
    assert document["program"] == "In [2]"
    assert list(document["files"]) == ["In [2]"], list(document["files"])
    file = document["files"]["In [2]"]
    assert file["cell"] == 2
    assert_cell_lines_are_the_typed_lines(file, cell)
    assert_hot_cell_measured(document, "In [2]")
    assert "In [2]" in shown["stdout"] and HOT_BODY[-1] in shown["stdout"], shown["stdout"]


def test_line_magic_profiles_the_statement_on_its_cell_line_and_returns_its_value(heatline):
    doc_path = heatline.new_path("line")
    cell = f"x = 3\n%heatline --cli --json-out {doc_path} sum(i * i for i in range(3_000_000)) + x"
    shown = run_cells(heatline, loaded(cell))[1]
    assert shown["success"], shown
    document = json.loads(doc_path.read_text())
    file = document["files"]["In [2]"]
    assert max(file["lines"], key=time_s)["line"] == 2, file["lines"]
    assert_cell_lines_are_the_typed_lines(file, cell)
    value = sum(i * i for i in range(3_000_000)) + 3
    assert f"Out[2]: {value}" in shown["stdout"], shown["stdout"]


def test_line_magic_in_a_function_sees_its_local_variables(heatline):
    doc_path = heatline.new_path("local")
    statement = "sum(i * i for i in range(2_000_000)) * y"
    cell = (f"def f():\n    y = 7\n    value = %heatline --cli --json-out {doc_path} {statement}\n"
            "    return value\nf()")
    shown = run_cells(heatline, loaded(cell))[1]
    assert shown["success"], shown
    assert f"Out[2]: {eval(statement, {'y': 7})}" in shown["stdout"], shown["stdout"]
    file = json.loads(doc_path.read_text())["files"]["In [2]"]
    assert [line["line"] for line in file["lines"]] == [3], file["lines"]


@pytest.mark.parametrize("reduced", [False, True], ids=["all lines", "reduced"])
def test_cli_prints_the_text_report_of_the_saved_document(heatline, reduced):
    doc_path = heatline.new_path("cli")
    options = "--reduced-profile " if reduced else ""
    cell = f"%%heatline --cli {options}--json-out {doc_path}\n" + "\n".join(HOT_BODY)
    shown = run_cells(heatline, loaded(cell))[1]
    assert shown["success"] and not shown["outputs"], shown
    expected = io.StringIO()
    render_text(json.loads(doc_path.read_text()), expected, color=False, reduced=reduced, width=REPORT_COLUMNS)
    assert shown["stdout"] == expected.getvalue()


def test_default_report_is_html_with_the_text_report_as_its_plain_fallback(heatline):
    doc_path = heatline.new_path("html")
    cell = f"%%heatline --json-out {doc_path}\n" + "\n".join(HOT_BODY)
    shown = run_cells(heatline, loaded(cell))[1]
    assert shown["success"] and shown["stdout"] == "", shown
    [bundle] = shown["outputs"]
    assert "In [2]" in bundle["text/html"] and HOT_BODY[-1] in bundle["text/html"]
    assert not bundle["text/html"].lstrip().startswith("<!DOCTYPE"), "a fragment, not a page"
    expected = io.StringIO()
    render_text(json.loads(doc_path.read_text()), expected, color=False, width=REPORT_COLUMNS)
    assert bundle["text/plain"] == expected.getvalue()


@pytest.mark.parametrize("cell, message", [
    ("%heatline --bogus 1", "unrecognized arguments: --bogus"),
    ("%heatline --cpu-sampling-interval abc 1", "--cpu-sampling-interval: expected seconds, got 'abc'"),
    ("%heatline --cpu-sampling-interval 0 1", "--cpu-sampling-interval must be between"),
    ("%heatline --memory-sampling-rate 2.5 1", "--memory-sampling-rate: expected a whole number of bytes"),
    ("%heatline --memory-sampling-rate 1 1", "--memory-sampling-rate must be between"),
    ("%heatline --json-out", "--json-out: expected one argument"),
    ("%heatline --json-out no/such/directory/p.json 1", "no such directory"),
    ("%heatline --cli", "%heatline needs a statement"),
    ("%%heatline x = 1\ny = 2", "%%heatline takes only options on its first line"),
])
def test_bad_options_are_one_usage_line_without_traceback(heatline, cell, message):
    shown = run_cells(heatline, loaded(cell))[1]
    assert not shown["success"]
    [line] = shown["stderr"].strip().splitlines()
    assert line.startswith("UsageError: ") and message in line, line
    assert "Traceback" not in shown["stdout"] + shown["stderr"]
    assert "heatline profile" not in shown["stdout"], "nothing was profiled"


@pytest.mark.parametrize("cell, line", [
    ("%%heatline --cli --json-out {doc}\nx = 1\n1 / 0", 3),
    ("x = 1\n%heatline --cli --json-out {doc} 1 / 0", 2),
], ids=["cell", "statement"])
def test_code_that_raises_shows_its_profile_then_the_exception_as_ipython_would(heatline, cell, line):
    doc_path = heatline.new_path("raises")
    shown = run_cells(heatline, loaded(cell.format(doc=doc_path)))[1]
    assert not shown["success"]
    assert doc_path.exists(), "the profile was written"
    stdout = shown["stdout"]
    assert "ZeroDivisionError" in stdout and stdout.index("In [2]") < stdout.index("ZeroDivisionError"), stdout
    assert f"Cell In[2], line {line}" in stdout, stdout
    assert HEATLINE_DIR not in stdout, "no frame of heatline's own code"


def test_second_session_is_refused_while_one_is_running(heatline):
    doc_path = heatline.new_path("after")
    shown = run_cells(heatline, loaded(
        "import heatline\nheatline.start()",
        "%heatline --cli 1 + 1",
        "_ = heatline.stop()",
        f"%heatline --json-out {doc_path} --cli sum(range(100))",
    ))
    refused = shown[2]
    assert not refused["success"]
    assert refused["stderr"].strip().splitlines() == [
        "UsageError: heatline is already profiling this process (heatline.start(), @heatline.profile or "
        "the heatline command): call heatline.stop() first"], refused
    assert shown[4]["success"] and doc_path.exists(), shown[4]


def test_options_reach_the_session(heatline):
    docs = {name: heatline.new_path(name) for name in
            ("cpu_only", "rates", "all", "only", "exclude", "children", "no_children")}
    fractions_loop = "sum(fractions.Fraction(i, 3) for i in range(300_000))"
    child = "subprocess.run([sys.executable, '-c', 'sum(range(10**6))'], check=True)"
    shown = run_cells(heatline, loaded(
        "import fractions, subprocess, sys",
        f"%heatline --cli --cpu-only --json-out {docs['cpu_only']} sum(range(10**6))",
        f"%heatline --cli --cpu-sampling-interval 0.02 --memory-sampling-rate 65536 --json-out {docs['rates']} "
        "sum(range(10**6))",
        f"%heatline --cli --profile-all --json-out {docs['all']} {fractions_loop}",
        f"%heatline --cli --profile-only fractions --json-out {docs['only']} {fractions_loop}",
        f"%heatline --cli --profile-exclude ipython-input --json-out {docs['exclude']} {fractions_loop}",
        f"%heatline --cli --json-out {docs['children']} {child}",
        f"%heatline --cli --no-children --json-out {docs['no_children']} {child}",
    ))
    assert all(cell["success"] for cell in shown), shown
    document = {name: json.loads(path.read_text()) for name, path in docs.items()}
    assert document["cpu_only"]["memory_sampling_rate_bytes"] is None
    assert document["cpu_only"]["totals"]["alloc_mb"] is None
    assert document["rates"]["cpu_sampling_interval_s"] == 0.02
    assert document["rates"]["memory_sampling_rate_bytes"] == 65536
    fractions_file = importlib.util.find_spec("fractions").origin
    assert fractions_file in document["all"]["files"], list(document["all"]["files"])
    assert list(document["only"]["files"]) == [fractions_file]
    assert document["exclude"]["files"] == {}
    assert len(document["children"]["processes"]) == 2, document["children"]["processes"]
    assert len(document["no_children"]["processes"]) == 1, document["no_children"]["processes"]


def test_the_gpu_options_reach_the_session(heatline):
    docs = {name: heatline.new_path(name) for name in ("default", "gpu", "no_gpu", "last_wins")}
    shown = run_cells(heatline, loaded(
        f"%heatline --cli --json-out {docs['default']} sum(range(10**5))",
        f"%heatline --cli --gpu --json-out {docs['gpu']} sum(range(10**5))",
        f"%heatline --cli --no-gpu --json-out {docs['no_gpu']} sum(range(10**5))",
        f"%heatline --cli --no-gpu --gpu --json-out {docs['last_wins']} sum(range(10**5))",
    ))
    assert all(cell["success"] for cell in shown), shown
    gpu = {name: json.loads(path.read_text())["gpu"] for name, path in docs.items()}
    assert gpu["no_gpu"]["available"] is False
    assert "turned off" in gpu["no_gpu"]["note"], gpu["no_gpu"]
    for name in ("default", "gpu", "last_wins"):
        # On a machine without a GPU the note says why instead; never that it was turned off.
        assert "turned off" not in (gpu[name].get("note") or ""), (name, gpu[name])


def test_import_heatline_does_not_import_ipython():
    result = subprocess.run([sys.executable, "-c", "import heatline, sys; print('IPython' in sys.modules)"],
                            capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert result.stdout.strip() == "False", result


def kernel_stack(frames: list[int], python_s: float, system_s: float) -> dict:
    return {"frames": frames, "samples": 1, "python_s": python_s, "native_s": 0.0, "system_s": system_s,
            "gil_wait_s": 0.0, "alloc_mb": 0.0, "copy_mb": 0.0, "peak_mb": 0.0}


def kernel_document(kernel_s: float, outside_s: float) -> dict:
    """A document of a cell: the cell's thread had 1 s on the cell's one line, the kernel's
    thread kernel_s of system time; outside_s of the total was on no line of the program. Its
    stacks: the cell's, from the kernel's launcher, and the kernel thread's, from threading's
    bootstrap."""
    pid = os.getpid()
    line = {"line": 2, "source": "x", "python_s": 1.0, "native_s": 0.0, "system_s": 0.0, "gil_wait_s": 0.0}
    frame = {"line": 1, "first_line": 1, "program": False}
    return {
        "stacks": {"frames": [{**frame, "function": "<module>", "file": "/kernel/ipykernel_launcher.py"},
                              {**frame, "function": "<module>", "file": "/cell.py", "line": 2, "program": True},
                              {**frame, "function": "Thread._bootstrap", "file": "/python/threading.py"},
                              {**frame, "function": "EpollSelector.select", "file": "/python/selectors.py"}],
                   "stacks": [kernel_stack([0, 1], 1.0, 0.0), kernel_stack([2, 3], 0.0, kernel_s)]},
        "totals": {"python_s": 1.0, "native_s": 0.0, "system_s": kernel_s, "gil_wait_s": 0.0,
                   "outside_program_s": outside_s},
        "threads": [{"tid": pid, "pid": pid, "python_s": 1.0, "native_s": 0.0, "system_s": 0.0, "gil_wait_s": 0.0},
                    {"tid": pid + 1, "pid": pid, "python_s": 0.0, "native_s": 0.0, "system_s": kernel_s,
                     "gil_wait_s": 0.0}],
        "files": {"/cell.py": {"percent": 100 / (1 + kernel_s), "python_s": 1.0, "native_s": 0.0, "system_s": 0.0,
                               "gil_wait_s": 0.0, "lines": [dict(line)], "functions": []}},
    }


def test_kernel_threads_leave_the_totals_and_the_percentages():
    from heatline.jupyter import set_aside_kernel_threads

    document = set_aside_kernel_threads(kernel_document(kernel_s=3.0, outside_s=3.0), {os.getpid() + 1})
    assert [thread["tid"] for thread in document["threads"]] == [os.getpid()]
    assert [thread["tid"] for thread in document["kernel_threads"]] == [os.getpid() + 1]
    assert document["totals"]["system_s"] == 0.0 and document["totals"]["outside_program_s"] == 0.0
    file = document["files"]["/cell.py"]
    assert close(file["percent"], 100.0) and close(file["lines"][0]["python_percent"], 100.0), file
    assert document["stacks"]["stacks"] == [kernel_stack([0, 1], 1.0, 0.0)], "the kernel thread's stack left"


def test_kernel_thread_that_ran_program_lines_keeps_the_document_whole():
    from heatline.jupyter import set_aside_kernel_threads

    original = kernel_document(kernel_s=3.0, outside_s=1.0)
    document = set_aside_kernel_threads(original, {os.getpid() + 1})
    assert document["kernel_threads"] == []
    assert document["threads"] == original["threads"] and document["totals"] == original["totals"]
    assert document["stacks"] == original["stacks"]


def assert_stacks_without_the_kernels(document: dict, label: str) -> None:
    """The cell's frames are named as its lines are, and no stack of the kernel's own threads
    (a thread's bootstrap with no frame of the program) is left: they waited the whole cell."""
    section = document["stacks"]
    frames = section["frames"]
    assert any(frame["file"] == label and frame["program"] for frame in frames), frames
    for stack in section["stacks"]:
        path = [frames[i] for i in stack["frames"]]
        assert not (path and path[0]["file"].endswith("threading.py") and not any(f["program"] for f in path)), path
    in_stacks = sum(stack[kind] for stack in section["stacks"] for kind in ("python_s", "native_s", "system_s"))
    total = sum(document["totals"][kind] for kind in ("python_s", "native_s", "system_s"))
    assert in_stacks <= total + SUM_ABSOLUTE_TOLERANCE_S, (in_stacks, total)


def test_notebook_on_a_real_kernel_shows_the_cells_report_inline(tmp_path, browser):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    doc_path = tmp_path / "notebook.json"
    hot_cell = f"%%heatline --json-out {doc_path}\n" + "\n".join(HOT_BODY) + "\nwork(500_000)"
    cells = ["%load_ext heatline", WORK_CELL, hot_cell, "%heatline --cli result = work(500_000)"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    nbclient.NotebookClient(notebook, timeout=RUN_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()

    document = json.loads(doc_path.read_text())
    assert document["program"] == "In [3]"
    assert_hot_cell_measured(document, "In [3]")
    assert_cell_lines_are_the_typed_lines(document["files"]["In [3]"], hot_cell)
    assert_stacks_without_the_kernels(document, "In [3]")
    # work() of the cell before is profiled on its own cell's lines.
    work = document["files"]["In [2]"]
    assert work["cell"] == 2 and time_s(work) > 0
    assert_cell_lines_are_the_typed_lines(work, WORK_CELL)
    # The kernel's threads wait for messages: they are set aside, and the books still balance.
    assert document["kernel_threads"], "ipykernel runs threads of its own"
    assert [thread["tid"] for thread in document["threads"]] == [document["processes"][0]["pid"]]
    in_files = sum(time_s(file) for file in document["files"].values())
    assert close(in_files + document["totals"]["outside_program_s"], time_s(document["totals"]))

    [report] = [output for output in notebook.cells[2].outputs if output["output_type"] == "display_data"]
    assert "In [3]" in report["data"]["text/html"] and "total += i * i" in report["data"]["text/html"]
    assert "In [3]" in report["data"]["text/plain"]
    # Its flame graph works: the frames are the stacks' sums, and the cell calls work() of the
    # cell before, both named by their cells.
    page_path = tmp_path / "report.html"
    page_path.write_text(f"<!DOCTYPE html><html><body>{report['data']['text/html']}</body></html>")
    flame = Flame(Page(browser, page_path))
    frames = assert_widths_are_the_inclusive_sums(flame, document, TIME_KEYS)
    [call] = [path for path in frames if path and path[-2:] == ("<module>", "work")]
    assert flame.hover(call[:-1]).splitlines()[1].startswith("In [3]:")
    assert flame.hover(call).splitlines()[1].startswith("In [2]:")
    cli_outputs = notebook.cells[3].outputs
    assert [output["output_type"] for output in cli_outputs] == ["stream"], cli_outputs
    assert "In [2]" in cli_outputs[0]["text"]
