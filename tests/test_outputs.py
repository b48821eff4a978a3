"""Where reports go and what happens when they cannot go there: --outfile checked and resolved
before the program runs, a fallback file when writing still fails, no program code after the
program ended; `heatline view` of saved profiles and its errors."""
from __future__ import annotations

import json
import os

import pytest

from conftest import PROGRAMS, SCHEMA, Runner, assert_no_heatline_traceback

ALARM_AT_THE_END = PROGRAMS / "alarm_at_the_end.py"
LEAVES_ITS_DIRECTORY = PROGRAMS / "leaves_its_directory.py"
LIGHT_AND_HEAVY = PROGRAMS / "light_and_heavy.py"
WIDE_TERMINAL = {**os.environ, "COLUMNS": "200"}


def test_an_unwritable_outfile_is_a_usage_error_before_the_program_runs(heatline, tmp_path):
    result = heatline.command("--outfile", "/nonexistent/d/p.txt", LEAVES_ITS_DIRECTORY, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == \
        "heatline: error: --outfile /nonexistent/d/p.txt: no such directory /nonexistent/d"
    directory_outfile = heatline.command("--outfile", tmp_path, LEAVES_ITS_DIRECTORY, tmp_path)
    assert directory_outfile.returncode == 2
    assert "is a directory" in directory_outfile.stderr


def test_a_relative_outfile_lands_where_the_command_ran_though_the_program_changes_directory(
        heatline, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = heatline.command("--json", "--outfile", "rel.json", LEAVES_ITS_DIRECTORY, elsewhere,
                              cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert not (elsewhere / "rel.json").exists()
    assert json.loads((tmp_path / "rel.json").read_text())["schema"] == SCHEMA


def test_an_outfile_that_cannot_be_written_at_the_end_keeps_the_profile_and_the_exit_status(
        heatline, tmp_path):
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    result = heatline.command("--json", "--outfile", doomed / "p.json", LEAVES_ITS_DIRECTORY,
                              tmp_path, doomed)
    assert result.returncode == 3, result.stderr
    note = result.stderr.strip().splitlines()[-1]
    assert note.startswith(f"heatline: cannot write {doomed / 'p.json'}: ")
    fallback = note.split("the profile is in ")[-1]
    try:
        document = json.loads(open(fallback).read())
    finally:
        os.unlink(fallback)
    assert document["program"] == str(LEAVES_ITS_DIRECTORY)
    assert_no_heatline_traceback(result.stderr)


@pytest.mark.parametrize("disposition", ["handler", "default"])
def test_no_program_code_runs_after_the_program_ended(heatline, disposition):
    """A timer still armed when the program ends expires while the report is written: its
    handler must not run (it would print), nor its default action kill the report."""
    plain = heatline.python(ALARM_AT_THE_END, disposition)
    assert (plain.returncode, plain.stdout) == (0, "done\n")
    outfile = heatline.new_path("report", ".txt")
    result = heatline.command("--outfile", outfile, ALARM_AT_THE_END, disposition)
    assert (result.returncode, result.stdout) == (0, "done\n"), result.stderr
    assert "alarm_at_the_end.py" in outfile.read_text()


def test_html_goes_to_a_file_of_its_own_and_says_where(heatline, tmp_path):
    result = heatline.command("--html", LEAVES_ITS_DIRECTORY, tmp_path / "..", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (3, "")
    page = tmp_path / "heatline.html"
    assert result.stderr == f"heatline: HTML report written to {page}\n"
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "leaves_its_directory.py" in text
    named = heatline.new_path("page", ".html")
    result = heatline.command("--html", "--outfile", named, LEAVES_ITS_DIRECTORY, tmp_path)
    assert result.returncode == 3 and named.read_text().startswith("<!DOCTYPE html>")


def test_one_form_of_report_at_a_time(heatline, tmp_path):
    result = heatline.command("--json", "--html", LEAVES_ITS_DIRECTORY, tmp_path)
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr.splitlines()[-1]


# ---- heatline view ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved(installed_heatline, tmp_path_factory):
    """A profile of light_and_heavy.py saved with --json, once for the module (tests only read it)."""
    directory = tmp_path_factory.mktemp("saved")
    run = Runner(directory).profile(LIGHT_AND_HEAVY)
    assert run.returncode == 0, run.stderr
    path = directory / "saved.json"
    path.write_text(json.dumps(run.profile.document))
    return path


def test_view_shows_a_saved_profile_as_the_run_would_have(heatline, saved):
    document = json.loads(saved.read_text())
    text = heatline.command("view", saved, env=WIDE_TERMINAL)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("heatline profile of ") and LIGHT_AND_HEAVY.name in text.stdout.split("\n")[0]
    hot = max(document["files"][str(LIGHT_AND_HEAVY)]["lines"], key=lambda line: line["python_s"])
    assert hot["source"].strip() in text.stdout
    as_json = heatline.command("view", saved, "--json")
    assert json.loads(as_json.stdout) == document
    outfile = heatline.new_path("view", ".txt")
    to_file = heatline.command("view", saved, "--cli", "--reduced-profile", "--outfile", outfile)
    assert (to_file.returncode, to_file.stdout, to_file.stderr) == (0, "", "")
    assert "Reduced profile" in outfile.read_text()


def _truncated(text: str) -> str:
    return text[: len(text) // 2]


def _other_schema(text: str) -> str:
    return text.replace(SCHEMA, "heatline-profile/99", 1)


def _incomplete(text: str) -> str:
    document = json.loads(text)
    del document["totals"]
    return json.dumps(document)


@pytest.mark.parametrize("spoil, message", [
    (None, "no such file"),
    (lambda text: "this is not json\n", "not a heatline profile (not JSON"),
    (lambda text: json.dumps({"a": 1}), 'not a heatline profile (JSON without "schema"'),
    (_truncated, "the profile is truncated"),
    (_other_schema, "written in schema heatline-profile/99, and this heatline reads heatline-profile/1 only"),
    (_incomplete, "not a complete heatline profile (no field 'totals')"),
])
@pytest.mark.parametrize("form", ["--cli", "--json"])
def test_view_of_a_bad_profile_file_says_why_in_one_line_and_writes_nothing(heatline, saved, spoil,
                                                                           message, form):
    bad = heatline.new_path("bad")
    if spoil is not None:
        bad.write_text(spoil(saved.read_text()))
    outfile = heatline.new_path("out", ".txt")
    result = heatline.command("view", bad, form, "--outfile", outfile)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"heatline: {bad}: "), result.stderr
    assert message in result.stderr
    assert not outfile.exists()


# ---- heatline diff ----------------------------------------------------------------------------

NUMPY_COPY = PROGRAMS.parent.parent / "examples" / "numpy_copy.py"
NUMPY_COPY_FIXED = PROGRAMS.parent.parent / "examples" / "numpy_copy_fixed.py"


def test_diff_compares_two_saved_runs_as_text_and_as_a_page(heatline, tmp_path):
    """The README's before/after: the fixed program's line matches the copying one and its peak
    and copy volume fall, in the terminal and in the HTML page."""
    documents = []
    for program in (NUMPY_COPY, NUMPY_COPY_FIXED):
        run = heatline.profile(program)
        assert run.returncode == 0, run.stderr
        path = heatline.new_path(program.stem)
        path.write_text(json.dumps(run.profile.document))
        documents.append(path)
    text = heatline.command("diff", *documents, env=WIDE_TERMINAL)
    assert text.returncode == 0, text.stderr
    totals_table = text.stdout.split("Run totals")[1].split("\n\n")[0]
    rows = {row.split()[0]: row.split() for row in totals_table.splitlines() if row.split()}
    before, after = (json.loads(path.read_text())["totals"] for path in documents)
    assert float(rows["peak"][2]) == pytest.approx(before["peak_mb"], abs=0.05)
    assert float(rows["peak"][3]) == pytest.approx(after["peak_mb"], abs=0.05)
    assert float(rows["copy"][4]) < 0 and float(rows["copy"][2]) > 10 * float(rows["copy"][3])
    assert "x = np.random.uniform(0, 1, size=N)" in text.stdout
    page = tmp_path / "diff.html"
    html = heatline.command("diff", *documents, "--html", "--outfile", page)
    assert (html.returncode, html.stdout) == (0, "")
    assert html.stderr == f"heatline: HTML report written to {page}\n"
    assert "numpy_copy_fixed.py" in page.read_text()


def test_diff_of_a_bad_profile_file_says_which_in_one_line_and_writes_nothing(heatline, saved):
    missing = heatline.new_path("missing")
    outfile = heatline.new_path("diff", ".html")
    result = heatline.command("diff", saved, missing, "--html", "--outfile", outfile)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"heatline: {missing}: no such file\n"
    assert not outfile.exists()


CHILDREN_PROGRAM = """\
import multiprocessing


def square_sum(n):
    return sum(i * i for i in range(n))


if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        print(sum(pool.map(square_sum, [400_000] * 4)))
"""

API_PROGRAM = """\
import json
import sys

import heatline

heatline.start()
total = sum(i * i for i in range(500_000))
document = heatline.stop()
with open(sys.argv[1], "w") as out:
    json.dump(document, out)
"""


@pytest.mark.parametrize("source", ["children", "api"])
def test_view_shows_documents_merged_from_children_and_made_by_the_api(heatline, tmp_path, source):
    program = tmp_path / f"{source}.py"
    saved = heatline.new_path(source)
    if source == "children":
        program.write_text(CHILDREN_PROGRAM)
        run = heatline.command("--json", "--outfile", saved, program)
    else:
        program.write_text(API_PROGRAM)
        run = heatline.python(program, saved)
    assert run.returncode == 0, run.stderr
    document = json.loads(saved.read_text())
    text = heatline.command("view", saved, env=WIDE_TERMINAL)
    assert text.returncode == 0, text.stderr
    assert "sum(i * i for i in range(" in text.stdout
    if source == "children":
        assert len(document["processes"]) >= 3
        assert "Processes" in text.stdout and "spawn" in text.stdout
    page = heatline.new_path(source, ".html")
    html = heatline.command("view", saved, "--html", "--outfile", page)
    assert html.returncode == 0, html.stderr
    assert "sum(i * i for i in range(" in page.read_text()
