"""The terminal report piped or redirected at 80 and 120 columns: nothing that carries a number is
cut, long paths are shortened, the legend explains exactly the columns shown; the top lines by
time; where elapsed time went; probabilities never rounded up to certainty."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from test_report import (
    GPU_DEVICE,
    GPU_NOTE,
    TOTAL_S,
    document,
    function,
    gpu_document,
    line,
    memory_document,
    no_gpu_document,
    render,
    row_of,
    sample_document,
    source_file,
)

WIDTHS = (80, 120)
# A program in a deep directory, and a library file outside it, as a user of pyenv has them.
DEEP_DIR = "/home/user/" + "/".join(f"a_rather_long_directory_name_{level}" for level in range(6))
DEEP_PROGRAM = f"{DEEP_DIR}/prog.py"
LIBRARY = "/root/.pyenv/versions/3.11.7/lib/python3.11/timeit.py"


def deep_document() -> dict[str, Any]:
    """memory_document() with its program moved to DEEP_DIR, and a library line outside it that
    holds memory, takes time and leaks."""
    doc = memory_document()
    files = doc["files"]
    files[DEEP_PROGRAM] = files.pop("/home/user/prog.py")
    files[f"{DEEP_DIR}/helper.py"] = files.pop("/home/user/helper.py")
    doc["program"] = DEEP_PROGRAM
    doc["memory_peak"]["file"] = DEEP_PROGRAM
    library_line = line(180, "            timing = self.inner(it, self.timer)", native_s=0.5)
    library_line.update(alloc_mb=2135.0, python_alloc_fraction=1.0, peak_mb=0.04, avg_mb=0.01,
                        timeline=[[1.0, 0.04]], copy_mb=0.0, copy_mb_s=0.0,
                        leak={"likelihood": 0.996, "mb_s": 0.01})
    files[LIBRARY] = source_file([library_line], [function("Timer.timeit", 166, native_s=0.5)])
    return doc


def section(text: str, title: str) -> list[str]:
    """The rows of the section that starts with `title`, up to the next blank line."""
    rows = text[text.index(title):].split("\n\n")[0].splitlines()
    return rows[1:]


def table_rows(text: str, title: str) -> list[str]:
    """The body rows of the table under `title` (after its dashed rule)."""
    rows = section(text, title)
    return rows[next(i for i, row in enumerate(rows) if set(row) == {"-"}) + 1:]


def table_headers(text: str) -> list[str]:
    rows = text.splitlines()
    return [rows[i - 1] for i, row in enumerate(rows) if row and set(row) == {"-"}]


def legend_terms(text: str) -> list[str]:
    """The terms the legend explains: its rows that start at the margin, before the notes."""
    rows = section(text, "Legend")
    return [re.split(r"\s{2,}", row)[0] for row in rows
            if row and not row.startswith(" ") and not row.startswith(("Percentages", "Memory"))]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory that none of the document's paths is under."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("width", WIDTHS)
def test_long_paths_never_push_the_numbers_of_top_lines_by_memory_out(width: int, elsewhere: Path) -> None:
    text = render(deep_document(), color=False, width=width)

    assert text.isascii()
    assert max(len(row) for row in text.splitlines()) <= width
    rows = {row.split()[0]: row.split() for row in table_rows(text, "Top lines by memory")}
    library = next(location for location in rows if location.endswith("/timeit.py:180"))
    assert library == f"{LIBRARY}:180" or (library.startswith(".../") and library[3:] in f"{LIBRARY}:180")
    assert rows[library][1:4] == ["2135.0", "100%", "<0.1"]
    assert rows["prog.py:9"][1:5] == ["762.9", "0%", "762.9", "300.2"]


@pytest.mark.parametrize("width", WIDTHS)
def test_long_paths_never_push_the_numbers_of_suspected_leaks_out(width: int, elsewhere: Path) -> None:
    text = render(deep_document(), color=False, width=width)

    rows = [row.split() for row in table_rows(text, "Suspected memory leaks")]
    assert [row[1:3] for row in rows] == [["99.6%", "0.01"], ["97.0%", "2.40"]]
    assert rows[0][0].endswith("timeit.py:180")


def test_a_path_is_shortened_from_the_left_at_a_directory() -> None:
    doc = deep_document()
    doc["program"] = "-m timeit"

    text = render(doc, color=False, width=80)

    location = next(row.split()[0] for row in table_rows(text, "Top lines by memory")
                    if "timeit" in row)
    assert location.startswith(".../") and location.endswith("/timeit.py:180")
    assert f"/{location[4:]}" in f"{LIBRARY}:180"  # whole directories kept, none cut inside


def test_paths_are_shown_relative_to_the_current_directory_under_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    doc = deep_document()
    doc["program"] = "-m prog"  # no program directory to be relative to
    monkeypatch.chdir("/")

    text = render(doc, color=False, width=300)

    locations = [row.split()[0] for row in table_rows(text, "Top lines by memory")]
    assert f"{DEEP_PROGRAM[1:]}:9" in locations
    assert re.search(rf"^{re.escape(DEEP_PROGRAM[1:])}  ", text, re.MULTILINE)


@pytest.mark.parametrize("width", WIDTHS)
def test_file_titles_keep_their_share_on_one_line(width: int, elsewhere: Path) -> None:
    text = render(deep_document(), color=False, width=width)

    titles = [row for row in text.splitlines() if " of the time (" in row]
    assert len(titles) == 3
    for title in titles:
        assert title.endswith(")") and len(title) <= width
    assert any(title.startswith(".../a_rather_long_directory_name_") and "/prog.py  " in title
               for title in titles)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_peak_wraps_at_word_boundaries(width: int, elsewhere: Path) -> None:
    doc = deep_document()
    doc["files"][DEEP_PROGRAM]["lines"][2]["source"] = "    data = np.ones(10**8) + np.zeros(10**8) * 2"

    text = render(doc, color=False, width=width)

    peak = " ".join(row.strip() for row in section(text, "Memory")[0:3]
                    if not row.startswith("footprint"))
    assert "800.0 MB at 7.50 s, largest share held by" in peak
    assert "data = np.ones(10**8) + np.zeros(10**8) * 2" in peak
    assert re.search(r"held by (\.\.\./)?\S*prog\.py:9 ", peak)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_legend_explains_only_the_columns_shown(width: int, elsewhere: Path) -> None:
    text = render(deep_document(), color=False, width=width)

    shown = {header for row in table_headers(text) for header in re.split(r"\s{2,}", row.strip())}
    terms = legend_terms(text)
    assert terms, text
    for term in terms:
        assert term in shown or (term == "bar" and width >= 100), (term, shown)
    for header in shown - {"Location", "Line", "Function", "Source"}:
        assert header in terms, header


def test_the_legend_leaves_out_the_leak_columns_without_a_leak() -> None:
    doc = memory_document()
    doc["files"]["/home/user/prog.py"]["lines"][4]["leak"] = None

    assert "likelihood" not in legend_terms(render(doc, color=False, width=80))


def many_lines_document(count: int, **fields: Any) -> dict[str, Any]:
    """One file of `count` lines: line n has n/100 s of Python time, line 1 native, line 2 system."""
    lines = [line(number, f"step_{number}()", python_s=number / 100) for number in range(3, count + 1)]
    lines += [line(1, "load()", native_s=0.02), line(2, "wait()", system_s=0.015)]
    doc = document({"/home/user/prog.py": source_file(lines, [function("<module>", 1, python_s=1.0)])},
                   **fields)
    return doc


def test_top_lines_by_time_rank_the_ten_lines_with_the_most_time_before_the_files() -> None:
    text = render(many_lines_document(30), color=False, width=80)

    rows = table_rows(text, "Top lines by time")
    assert [row.split()[0] for row in rows] == [f"prog.py:{n}" for n in range(30, 20, -1)]
    assert rows[0].split()[1:3] == [f"{0.30 / TOTAL_S * 100:.1f}%"] * 2  # total, Python
    assert rows[0].rstrip().endswith("step_30()")
    assert text.index("Top lines by time") < text.index("/home/user/prog.py  ")
    header = section(text, "Top lines by time")[0]
    assert re.split(r"\s{2,}|\s(?=\S)", header)[:5] == ["Location", "total", "Python", "native", "system"]
    assert "GIL wait" not in header
    assert "total" in legend_terms(text)


def test_top_lines_by_time_show_native_and_system_time_and_gil_wait_when_any() -> None:
    doc = many_lines_document(12)
    lines = doc["files"]["/home/user/prog.py"]["lines"]
    lines[-2:] = [line(1, "load()", native_s=1.0), line(2, "wait()", system_s=0.9)]
    next(entry for entry in lines if entry["line"] == 12).update(gil_wait_s=0.5, gil_wait_percent=5.0)

    text = render(doc, color=False, width=120)

    rows = {row.split()[0]: row for row in table_rows(text, "Top lines by time")}
    assert "GIL wait" in section(text, "Top lines by time")[0]
    assert "5.0%" in rows["prog.py:12"]
    assert rows["prog.py:1"].split()[1:3] == ["10.0%", "10.0%"] and "load()" in rows["prog.py:1"]
    assert rows["prog.py:2"].split()[1:3] == ["9.0%", "9.0%"] and "wait()" in rows["prog.py:2"]


def test_no_top_lines_by_time_when_the_files_show_every_line_at_a_glance() -> None:
    assert "Top lines by time" not in render(many_lines_document(10), color=False)
    assert "Top lines by time" not in render(sample_document(), color=False)


def test_top_lines_by_time_follow_the_reduced_profile() -> None:
    doc = many_lines_document(14)  # lines 1 to 9 have under 1% of the time

    assert "Top lines by time" in render(doc, color=False)
    assert "Top lines by time" not in render(doc, color=False, reduced=True)
    doc = many_lines_document(25)
    rows = table_rows(render(doc, color=False, reduced=True), "Top lines by time")
    assert len(rows) == 10 and all("step_" in row for row in rows)


def loaded_document(cpu_wait_s: float, **fields: Any) -> dict[str, Any]:
    """A one-thread run that waited `cpu_wait_s` for a CPU: 10 s of time in 12.5 s elapsed."""
    doc = sample_document(elapsed_s=10.0 + cpu_wait_s, **fields)
    doc["totals"]["cpu_wait_s"] = cpu_wait_s
    return doc


def header(text: str) -> str:
    return text.split("\n\n")[0]


def test_time_spent_waiting_for_a_cpu_is_shown_when_noticeable() -> None:
    text = render(loaded_document(2.1), color=False, width=80)

    assert re.search(r"^CPU wait\s+2\.10 s waiting for a free CPU: the machine was busy; in no line",
                     header(text), re.MULTILINE)


def test_a_little_cpu_wait_is_not_shown() -> None:
    text = render(loaded_document(0.003), color=False)

    assert "CPU" not in header(text).replace("CPU samples", "").replace("CPU time", "")


def test_one_thread_shows_its_time_and_waits_adding_up_to_elapsed() -> None:
    text = render(loaded_document(2.1), color=False, width=120)

    assert re.search(r"^elapsed\s+12\.10 s; one thread: time 10\.00 s \+ CPU wait 2\.10 s = 12\.10 s$",
                     header(text), re.MULTILINE), header(text)


def test_several_threads_are_said_to_add_up_over_threads_not_to_elapsed() -> None:
    threads = [{"tid": tid, "python_s": 2.5, "native_s": 1.5, "system_s": 1.0, "gil_wait_s": 0.5}
               for tid in (1, 2)]
    doc = loaded_document(2.1, threads=threads)
    doc["totals"]["gil_wait_s"] = 1.0

    text = " ".join(header(render(doc, color=False, width=200)).split())

    assert ("elapsed 12.10 s; 2 threads: time 10.00 s + GIL wait 1.00 s + CPU wait 2.10 s = 13.10 s,"
            " summed over threads that may have run at the same time") in text


@pytest.mark.parametrize("likelihood, shown", [(0.996, "99.6%"), (0.9999, "99.9%"), (0.97, "97.0%"),
                                               (0.95, "95.0%"), (1.0, "100%")])
def test_a_leak_likelihood_is_never_rounded_up_to_certainty(likelihood: float, shown: str) -> None:
    doc = memory_document()
    doc["files"]["/home/user/prog.py"]["lines"][4]["leak"]["likelihood"] = likelihood

    row = table_rows(render(doc, color=False), "Suspected memory leaks")[0]

    assert row.split()[1] == shown


def test_heatline_report_is_available_after_import_heatline() -> None:
    """The README's `heatline.report.render_text(...)` after a plain `import heatline`, which
    still does not import rich (only rendering does)."""
    program = ("import sys, heatline\n"
               "assert 'rich' not in sys.modules\n"
               "assert callable(heatline.report.render_text)\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr


def test_a_short_location_is_never_made_longer_to_fit() -> None:
    text = render(deep_document(), color=False, width=60)

    locations = [row.split()[0] for row in table_rows(text, "Top lines by memory")]
    assert "prog.py:20" in locations and ".../prog.py:20" not in locations


def test_gpu_columns_appear_when_the_gpu_was_measured_and_show_the_gpu_line() -> None:
    text = render(gpu_document(), color=False, width=120)

    for header in table_headers(text):
        assert "GPU" in header and "GPU avg MB" in header and "GPU peak MB" in header
    assert re.search(r"97%\s+1536\.4\s+2048\.0", row_of(text, 9))
    # A line that ran on the CPU alone reads 0%, not blank: the GPU was measured and idle.
    assert re.search(r"\b0%", row_of(text, 8))
    for term in ("GPU", "GPU avg MB", "GPU peak MB"):
        assert term in legend_terms(text)


def test_no_gpu_column_at_all_when_the_gpu_was_not_measured() -> None:
    text = render(no_gpu_document("no NVIDIA driver: libnvidia-ml.so.1 not found"), color=False, width=120)

    for header in table_headers(text):
        assert "GPU" not in header
    assert "GPU" not in legend_terms(text)


def test_the_note_says_in_one_line_why_there_are_no_gpu_figures() -> None:
    note = "no NVIDIA driver: libnvidia-ml.so.1 not found"
    text = render(no_gpu_document(note), color=False, width=80)

    assert f"GPU not read: {note}" in " ".join(header(text).split())


def test_the_header_names_the_device_whose_utilization_and_the_totals() -> None:
    per_process = " ".join(header(render(gpu_document(), color=False, width=120)).split())
    device_wide = " ".join(header(render(gpu_document(per_process=False), color=False, width=120)).split())

    assert GPU_DEVICE in per_process
    assert "this program's utilization" in per_process
    assert "the whole device's utilization" in device_wide
    assert "62% busy on average" in per_process
    assert "peak 2048.0 MB of GPU memory" in per_process


def test_a_partial_gpu_run_shows_its_figures_and_its_note() -> None:
    text = render(gpu_document(note=GPU_NOTE), color=False, width=120)

    assert f"; {GPU_NOTE}" in " ".join(header(text).split())
    assert re.search(r"97%", row_of(text, 9))


@pytest.mark.parametrize("width", WIDTHS)
def test_gpu_numbers_are_never_cut_at_any_width(width: int) -> None:
    doc = gpu_document()
    doc["files"]["/home/user/prog.py"]["lines"][2]["source"] = "    data = " + "np.ones(10**8) + " * 10

    text = render(doc, color=False, width=width)

    assert all(len(row) <= width for row in text.splitlines())
    assert re.search(r"97%\s+(1536\.4\s+)?2048\.0", row_of(text, 9))


# ---- the tables: laid out in one pass, drawn as rich's Table drew them ----

def _plain_or_color_console(width: int, color: bool):
    from rich.console import Console

    return Console(width=width, force_terminal=color, color_system="standard" if color else None,
                   markup=False, emoji=False, highlight=False)


def _rich_table_lines(grid_columns: list[tuple[str, dict]], rows: list[list], width: int, color: bool) -> list[str]:
    from heatline.report.terminal import rich_table

    table = rich_table(color)
    for header, options in grid_columns:
        table.add_column(header, **options)
    for row in rows:
        table.add_row(*row)
    console = _plain_or_color_console(width, color)
    with console.capture() as capture:
        console.print(table)
    return capture.get().rstrip("\n").split("\n")


def _without_codes(lines: list[str]) -> list[str]:
    return [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in lines]


@pytest.mark.parametrize("color", [False, True])
def test_tables_are_drawn_as_rich_drew_them(color: bool) -> None:
    """Random tables of the reports' shapes (right-aligned numbers, fixed-width graphs, at most
    one column that gives way, as wide as the console or wider): the Grid writes, colors aside,
    the lines rich's Table wrote (rich also colors the padding)."""
    import random

    from rich.text import Text

    from heatline.report.grid import Grid

    chosen = random.Random(20261202)
    for _ in range(150):
        kinds = [chosen.choice(["number", "number", "graph"]) for _ in range(chosen.randint(2, 8))]
        if chosen.random() < 0.8:
            kinds[chosen.randrange(len(kinds))] = "source"
        columns = []
        for kind in kinds:
            if kind == "number":
                columns.append((chosen.choice(["Line", "Python", "alloc MB", "", "x"]), {"justify": "right", "no_wrap": True}))
            elif kind == "graph":
                columns.append((chosen.choice(["memory", "", "x"]), {"width": 6, "no_wrap": True}))
            else:
                columns.append((chosen.choice(["Source", "Function"]), {}))
        rows = []
        for _ in range(chosen.randint(0, 6)):
            row = []
            for kind in kinds:
                if kind == "number":
                    row.append(Text(chosen.choice(["", "1.0%", "<0.1%", "123.4", "99"]), style=chosen.choice(["", "green", "bold"])))
                elif kind == "graph":
                    row.append(Text.assemble(("#" * chosen.randint(0, 4), "cyan"), ("=" * chosen.randint(0, 5), "red")))
                else:
                    row.append(Text(" " * chosen.randint(0, 8) + "total += f(x)" * chosen.randint(0, 6), no_wrap=True,
                                    overflow="ellipsis" if color else "crop"))
            rows.append(row)
        fixed = sum(max([len(header)] + [row[index].cell_len for row in rows]) + 2
                    for index, (header, options) in enumerate(columns) if options)
        width = chosen.randint(fixed + 8, 160)
        grid = Grid(rule="─" if color else "-")
        for header, options in columns:
            grid.add_column(header, **options)
        for row in rows:
            grid.add_row(*row)
        console = _plain_or_color_console(width, color)
        expected = _without_codes(_rich_table_lines(columns, rows, width, color))
        assert _without_codes(grid.lines(console)) == expected, (kinds, width)
