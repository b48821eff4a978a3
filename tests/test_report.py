"""Reports drawn from hand-built profile documents (docs/profile-format.md): no engine needed."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def _load_report() -> ModuleType:
    """The installed heatline.report when the engine is built, else the source tree's copy.

    The source copy is loaded under a private name: importing the `heatline` package from the
    source tree would import its engine, which is not built there.
    """
    try:
        import heatline._core  # noqa: F401
    except ImportError:
        package_dir = Path(__file__).resolve().parents[1] / "src" / "heatline" / "report"
        spec = importlib.util.spec_from_file_location(
            "_heatline_report_source",
            package_dir / "__init__.py",
            submodule_search_locations=[str(package_dir)],
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    import heatline.report

    return heatline.report


report = _load_report()

ANSI_ESCAPE = "\x1b"
BOX_DRAWING = re.compile("[\u2500-\u257f]")

TIME_KINDS = ("python", "native", "system")
TOTAL_S = 10.0
UNMEASURED = {
    "alloc_mb": None, "python_alloc_fraction": None, "peak_mb": None, "avg_mb": None,
    "timeline": None, "copy_mb": None, "copy_mb_s": None, "gpu_percent": None,
    "gpu_mem_avg_mb": None, "gpu_mem_peak_mb": None, "leak": None,
}


def counters(python_s: float = 0.0, native_s: float = 0.0, system_s: float = 0.0,
             gil_wait_s: float = 0.0, **measured: Any) -> dict[str, Any]:
    seconds = {"python": python_s, "native": native_s, "system": system_s, "gil_wait": gil_wait_s}
    entry = {f"{kind}_s": value for kind, value in seconds.items()}
    entry.update({f"{kind}_percent": value / TOTAL_S * 100 for kind, value in seconds.items()})
    return {**entry, **UNMEASURED, **measured}


def line(number: int, source: str, **times: Any) -> dict[str, Any]:
    return {"line": number, "source": source, **counters(**times)}


def function(name: str, first_line: int, **times: Any) -> dict[str, Any]:
    return {"name": name, "line": first_line, **counters(**times)}


def source_file(lines: list[dict[str, Any]], functions: list[dict[str, Any]]) -> dict[str, Any]:
    sums = {kind: sum(entry[f"{kind}_s"] for entry in lines) for kind in TIME_KINDS}
    return {
        "percent": sum(sums.values()) / TOTAL_S * 100,
        **{f"{kind}_s": value for kind, value in sums.items()},
        "gil_wait_s": sum(entry["gil_wait_s"] for entry in lines),
        "lines": lines,
        "functions": functions,
    }


def document(files: dict[str, Any], **fields: Any) -> dict[str, Any]:
    doc = {
        "schema": "heatline-profile/1",
        "program": "/home/user/prog.py",
        "argv": ["prog.py"],
        "python_version": "3.11.7",
        "heatline_version": "0.1.0",
        "elapsed_s": 12.5,
        "cpu_sampling_interval_s": 0.01,
        "memory_sampling_rate_bytes": None,
        "gpu": {"available": False, "device": None, "per_process": False},
        "samples": {"cpu": 1000, "dropped": 0, "memory": None, "memory_dropped": None},
        "message": None,
        "totals": {
            "python_s": 5.0, "native_s": 3.0, "system_s": 2.0, "gil_wait_s": 0.0,
            "outside_program_s": 0.0,
            "alloc_mb": None, "python_alloc_fraction": None, "peak_mb": None, "copy_mb": None,
            "gpu_percent": None,
        },
        "timeline": None,
        "memory_peak": None,
        "processes": [{"pid": 4242, "argv": ["prog.py"], "elapsed_s": 12.5}],
        "threads": [
            {"tid": 4242, "python_s": 5.0, "native_s": 3.0, "system_s": 2.0, "gil_wait_s": 0.0}
        ],
        "profiled_functions": None,
        "files": files,
    }
    doc.update(fields)
    return doc


def sample_document(**fields: Any) -> dict[str, Any]:
    main = source_file(
        lines=[
            line(3, "import numpy as np", native_s=0.3),
            line(8, "    total = sum(range(10**7))", python_s=4.0, system_s=0.05),
            line(9, "    data = np.ones(10**8)", native_s=2.7, python_s=0.95),
            line(12, "    time.sleep(1)", system_s=1.9),
            line(15, "    x = [1]", python_s=0.04),
        ],
        functions=[
            function("<module>", 1, native_s=0.3),
            function("tiny", 14, python_s=0.04),
            function("compute", 5, python_s=4.95, native_s=2.7, system_s=0.05),
            function("wait", 11, system_s=1.9),
        ],
    )
    helper = source_file(
        lines=[line(2, "return x * 2", python_s=0.01)],
        functions=[function("double", 1, python_s=0.01)],
    )
    return document({"/home/user/helper.py": helper, "/home/user/prog.py": main}, **fields)


# Line 9 (the NumPy line, standing in for a matrix product on the GPU) kept the GPU busy and
# held its memory; every other line ran on the CPU alone.
GPU_DEVICE = "NVIDIA H100 80GB HBM3"
GPU_NOTE = "NVML error: GPU is lost (the GPU stopped answering at 1.20 s)"


def gpu_document(per_process: bool = True, note: str | None = None, **fields: Any) -> dict[str, Any]:
    """sample_document() with the GPU measured, as the engine writes it (docs/profile-format.md)."""
    doc = sample_document(**fields)
    doc["gpu"] = {
        "available": True, "device": GPU_DEVICE,
        "devices": [{"index": 0, "name": GPU_DEVICE, "memory_total_mb": 81559.0}],
        "per_process": per_process, "note": note,
        "timeline": [[index * 0.05, 2048.0 if 40 <= index < 200 else 0.0] for index in range(250)],
    }
    doc["totals"].update(gpu_percent=61.5, gpu_mem_peak_mb=2048.0)
    for file in doc["files"].values():
        for entry in file["lines"] + file["functions"]:
            entry.update(gpu_percent=0.0, gpu_mem_avg_mb=0.0, gpu_mem_peak_mb=0.0)
    main = doc["files"]["/home/user/prog.py"]
    main["lines"][2].update(gpu_percent=97.0, gpu_mem_avg_mb=1536.4, gpu_mem_peak_mb=2048.0)
    main["functions"][2].update(gpu_percent=55.0, gpu_mem_avg_mb=870.2, gpu_mem_peak_mb=2048.0)
    return doc


def no_gpu_document(note: str) -> dict[str, Any]:
    """sample_document() of a run where the GPU could not be measured, and the note says why."""
    doc = sample_document()
    doc["gpu"] = {"available": False, "device": None, "devices": [], "per_process": False,
                  "note": note, "timeline": None}
    doc["totals"]["gpu_mem_peak_mb"] = None
    return doc


NO_MEMORY = {"alloc_mb": 0.0, "peak_mb": 0.0, "avg_mb": 0.0, "copy_mb": 0.0, "copy_mb_s": 0.0}
PLAIN_SPARK = ".:-=+*#@"
COLOR_SPARK = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"


def held(mb: float, elapsed_s: float = 12.5, points: int = 64) -> list[list[float]]:
    """A timeline holding `mb` from the start of the run to its end."""
    return [[index * elapsed_s / points, mb] for index in range(points)]


def memory_document(**fields: Any) -> dict[str, Any]:
    """sample_document() with memory measured: line 9 holds a NumPy array (native memory), line 8
    churns through Python ints, line 15 leaks, and line 20 only allocates (no time)."""
    doc = sample_document(**fields)
    doc["memory_sampling_rate_bytes"] = 1048576
    doc["samples"].update(memory=1400, memory_dropped=0)
    doc["totals"].update(alloc_mb=1200.0, python_alloc_fraction=0.35, peak_mb=800.0, copy_mb=20.0)
    doc["timeline"] = [[index * 0.05, 800.0 if index == 150 else 600.0] for index in range(250)]
    doc["memory_peak"] = {"t_s": 7.5, "mb": 800.0, "file": "/home/user/prog.py", "line": 9}
    for file in doc["files"].values():
        for entry in file["lines"] + file["functions"]:
            entry.update(NO_MEMORY)
    main = doc["files"]["/home/user/prog.py"]
    array, churn, leak = main["lines"][2], main["lines"][1], main["lines"][4]
    array.update(alloc_mb=762.9, python_alloc_fraction=0.0, peak_mb=762.9, avg_mb=300.2,
                 timeline=held(762.9), copy_mb=20.0, copy_mb_s=1.6)
    churn.update(alloc_mb=305.2, python_alloc_fraction=1.0, peak_mb=1.0, avg_mb=0.1,
                 timeline=[[1.0, 1.0], [1.1, 0.0]])
    leak.update(alloc_mb=30.0, python_alloc_fraction=0.98, peak_mb=30.0, avg_mb=14.0,
                timeline=[[index * 0.5, index * 1.2] for index in range(26)],
                leak={"likelihood": 0.97, "mb_s": 2.4})
    main["lines"].append(line(20, "    cache = bytearray(10**8)", **NO_MEMORY))
    main["lines"][-1].update(alloc_mb=95.4, python_alloc_fraction=0.0, peak_mb=95.4, avg_mb=40.0,
                             timeline=[[2.0, 95.4], [9.0, 0.0]])
    main["functions"][2].update(alloc_mb=1068.1, python_alloc_fraction=0.29, peak_mb=763.9,
                                avg_mb=300.3, timeline=held(763.9), copy_mb=20.0, copy_mb_s=1.6)
    return doc


def render(doc: dict[str, Any], **options: Any) -> str:
    out = io.StringIO()
    options.setdefault("width", 100)
    report.render_text(doc, out, **options)
    return out.getvalue()


def row_of(text: str, line_number: int) -> str:
    """The line-table row for a source line number (rows start with the right-aligned number)."""
    rows = [row for row in text.splitlines() if re.match(rf"\s*{line_number}\s", row)]
    assert len(rows) == 1, f"expected one row for line {line_number} in:\n{text}"
    return rows[0]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_output_has_no_ansi_escape_and_no_box_drawing_character() -> None:
    doc = sample_document()
    doc["files"]["/home/user/prog.py"]["lines"][3]["gil_wait_s"] = 0.5
    doc["files"]["/home/user/prog.py"]["lines"][3]["gil_wait_percent"] = 5.0

    text = render(doc, color=False)

    assert ANSI_ESCAPE not in text
    assert not BOX_DRAWING.search(text)
    assert "time.sleep(1)" in text


def test_output_to_a_non_terminal_is_plain_by_default() -> None:
    text = render(sample_document())

    assert ANSI_ESCAPE not in text
    assert not BOX_DRAWING.search(text)


def test_output_to_a_terminal_is_colored_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = FakeTerminal()

    report.render_text(sample_document(), out, width=100)

    assert ANSI_ESCAPE in out.getvalue()


@pytest.mark.parametrize("value", ["1", ""])
def test_no_color_in_the_environment_turns_color_off_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NO_COLOR", value)
    out = FakeTerminal()

    report.render_text(sample_document(), out, width=100)

    assert ANSI_ESCAPE not in out.getvalue()
    assert not BOX_DRAWING.search(out.getvalue())


def test_explicit_color_overrides_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    assert ANSI_ESCAPE in render(sample_document(), color=True)


def test_reduced_mode_drops_lines_and_functions_under_one_percent() -> None:
    text = render(sample_document(), color=False, reduced=True)

    assert "x = [1]" not in text  # 0.4%
    assert "tiny" not in text  # 0.4%
    assert "/home/user/helper.py" not in text  # its only line has 0.1%
    assert "import numpy as np" in text  # 3%
    assert "wait" in text


def test_reduced_mode_keeps_a_line_at_exactly_one_percent() -> None:
    doc = document({"/p.py": source_file(
        # 0.7 + 0.2 + 0.1 sums to just under 1.0 in floating point.
        lines=[line(1, "edge = True", python_s=0.07, native_s=0.02, system_s=0.01)],
        functions=[],
    )})

    reduced = report.filter_reduced(doc)

    assert [entry["line"] for entry in reduced["files"]["/p.py"]["lines"]] == [1]


def test_filter_reduced_leaves_the_document_unchanged() -> None:
    doc = sample_document()
    before = json.dumps(doc)

    report.filter_reduced(doc)

    assert json.dumps(doc) == before


def test_message_is_shown_for_a_document_without_samples() -> None:
    message = "the program finished before any sample was taken"
    doc = document({}, message=message, samples={"cpu": 0, "dropped": 0}, elapsed_s=0.001)
    doc["totals"].update(python_s=0.0, native_s=0.0, system_s=0.0)

    text = render(doc, color=False)

    assert message in text
    assert "0 CPU samples" in text


def table_headers(text: str) -> list[str]:
    return [row for row in text.splitlines() if row.startswith(("Line ", "Function "))]


def test_columns_of_unmeasured_fields_are_absent() -> None:
    text = render(sample_document(), color=False)

    headers = table_headers(text)
    assert len(headers) == 4
    for header in headers:
        for absent in ("alloc MB", "peak MB", "copy MB/s", "GPU", "GIL wait"):
            assert absent not in header


def test_gil_wait_column_appears_when_a_line_waited_for_the_gil() -> None:
    doc = sample_document()
    waiting = doc["files"]["/home/user/prog.py"]["lines"][1]
    waiting.update(gil_wait_s=0.25, gil_wait_percent=2.5)

    text = render(doc, color=False)

    assert all("GIL wait" in header for header in table_headers(text))
    assert "2.5%" in row_of(text, 8)


def test_a_measured_memory_column_is_shown() -> None:
    doc = sample_document()
    doc["files"]["/home/user/prog.py"]["lines"][2]["alloc_mb"] = 762.9395

    text = render(doc, color=False)

    assert all("alloc MB" in header and "peak MB" not in header for header in table_headers(text))
    assert "762.9" in row_of(text, 9)


def test_percentages_are_rounded_to_a_tenth_and_tiny_ones_marked() -> None:
    doc = sample_document()
    busy = doc["files"]["/home/user/prog.py"]["lines"][1]
    busy.update(python_percent=40.04999, system_percent=0.02)

    row = row_of(render(doc, color=False), 8)

    assert "40.0%" in row
    assert "<0.1%" in row
    assert "40.04" not in row


def test_lines_appear_in_ascending_order_and_files_by_share() -> None:
    doc = sample_document()
    main = doc["files"]["/home/user/prog.py"]
    main["lines"].reverse()

    text = render(doc, color=False)

    in_line_order = sorted(main["lines"], key=lambda entry: entry["line"])
    positions = [text.index(entry["source"]) for entry in in_line_order]
    assert positions == sorted(positions)
    assert text.index("/home/user/prog.py  ") < text.index("/home/user/helper.py")


def test_functions_are_sorted_by_total_time_descending() -> None:
    text = render(sample_document(), color=False)

    table = text[text.index("Function"):text.index("/home/user/helper.py")]
    names = [row.split()[0] for row in table.splitlines()[2:] if row.strip()]
    assert names == ["compute", "wait", "<module>", "tiny"]


def test_decorated_functions_restriction_is_stated_and_leaves_out_everything_else() -> None:
    # The document is lossless (every line and function); the report applies the restriction.
    decorated = [
        {"file": "/home/user/prog.py", "name": "compute", "first_line": 5, "last_line": 10}
    ]

    text = render(sample_document(profiled_functions=decorated), color=False)

    assert "Only functions decorated with @profile are shown: compute." in text
    table = text[text.index("Function"):].split("\n\n")[0]
    names = [row.split()[0] for row in table.splitlines()[2:] if row.strip()]
    assert "compute" in names, table
    assert not {"wait", "tiny", "<module>", "double"} & set(names), table
    assert "8" in row_of(text, 8) and "9" in row_of(text, 9)  # compute's lines
    for outside in (3, 12, 15):
        assert not [row for row in text.splitlines() if re.match(rf"\s*{outside}\s", row)], (
            outside, text)
    assert "/home/user/helper.py" not in text


def test_source_text_is_printed_verbatim_not_as_markup() -> None:
    doc = sample_document()
    doc["files"]["/home/user/prog.py"]["lines"][0]["source"] = "print('[bold]x[/bold] :smile:')"

    assert "print('[bold]x[/bold] :smile:')" in render(doc, color=False)


def test_long_source_lines_are_cut_to_the_width() -> None:
    doc = sample_document()
    doc["files"]["/home/user/prog.py"]["lines"][2]["source"] = "    data = " + "x" * 300

    text = render(doc, color=False, width=80)

    assert max(len(row) for row in text.splitlines()) <= 80
    assert "data = xxx" in row_of(text, 9)


def test_legend_explains_every_shown_column() -> None:
    text = render(sample_document(), color=False)

    legend = text[text.index("Legend"):]
    for term in ("Python", "native", "system", "bytecode", "C code", "blocked off the CPU"):
        assert term in legend


def test_the_documented_example_renders() -> None:
    format_page = Path(__file__).resolve().parents[1] / "docs" / "profile-format.md"
    example = format_page.read_text(encoding="utf-8").split("```json\n")[1].split("```")[0]

    text = render(json.loads(example), color=False)

    assert "29.0%" in row_of(text, 5)
    assert "time.sleep(1)" in text
    assert "66.0 MB at 20 ms, largest share held by prog.py:4" in text
    assert "96.0" in row_of(text, 4)


def test_write_json_round_trips_and_ends_with_a_newline() -> None:
    doc = sample_document()
    out = io.StringIO()

    report.write_json(doc, out)

    assert out.getvalue().endswith("}\n")
    assert json.loads(out.getvalue()) == doc


def test_memory_columns_appear_when_memory_was_measured() -> None:
    text = render(memory_document(), color=False)

    for header in table_headers(text):
        for column in ("alloc MB", "py%", "peak MB", "copy MB/s"):
            assert column in header
    array_row = row_of(text, 9)
    assert "762.9" in array_row
    assert " 0%" in array_row  # a NumPy buffer: none of it through Python's allocator
    assert "100%" in row_of(text, 8)
    assert "1.6" in array_row


def test_a_line_that_only_allocated_has_a_row() -> None:
    row = row_of(render(memory_document(), color=False), 20)

    assert "95.4" in row
    assert "%" in row  # py%, the only percent in a row without time
    assert row.count("%") == 1


def test_a_document_without_memory_has_no_memory_section_or_column() -> None:
    text = render(sample_document(), color=False)

    assert "Memory" not in text
    assert "leak" not in text
    for header in table_headers(text):
        for column in ("alloc MB", "py%", "peak MB", "memory", "copy MB/s"):
            assert column not in header


def test_memory_summary_gives_the_peak_its_time_and_its_line() -> None:
    text = render(memory_document(), color=False)

    summary = text[text.index("Memory"):text.index("Top lines by memory")]
    assert "800.0 MB at 7.50 s" in summary
    assert "prog.py:9  data = np.ones(10**8)" in summary
    assert "1200.0 MB, 35% of it through Python's allocator" in summary
    assert "20.0 MB" in summary
    assert "1400 memory samples, about one per 1 MB" in summary


def test_memory_peak_on_no_program_line_names_no_line() -> None:
    doc = memory_document()
    doc["memory_peak"].update(file=None, line=None)

    text = render(doc, color=False)

    peak = next(row for row in text.splitlines() if row.startswith("peak "))
    assert "800.0 MB at 7.50 s" in peak
    assert "held by" not in peak


def test_lost_memory_events_are_reported() -> None:
    doc = memory_document()
    doc["samples"]["memory_dropped"] = 17

    text = render(doc, color=False)

    assert "17 lost" in text


def test_sampling_rate_is_shown_in_kilobytes_below_a_megabyte() -> None:
    doc = memory_document()
    doc["memory_sampling_rate_bytes"] = 262144

    assert "about one per 256 KB allocated or copied" in render(doc, color=False)


def memory_ranking(text: str) -> list[str]:
    table = text[text.index("Top lines by memory"):]
    table = table[:table.index("\n\n")]
    return [row.split()[0] for row in table.splitlines()[3:]]


def test_top_lines_by_memory_rank_by_peak_then_allocation() -> None:
    doc = memory_document()
    main = doc["files"]["/home/user/prog.py"]
    main["lines"][1]["peak_mb"] = 30.0  # ties with line 15, which allocated less

    text = render(doc, color=False)

    assert memory_ranking(text) == ["prog.py:9", "prog.py:20", "prog.py:8", "prog.py:15"]
    first = text[text.index("Top lines by memory"):].splitlines()[3]
    assert "762.9" in first and "300.2" in first and "data = np.ones(10**8)" in first


def test_top_lines_by_memory_show_at_most_ten() -> None:
    doc = memory_document()
    many = [line(100 + number, f"chunk{number} = bytes(10**6)", **NO_MEMORY)
            for number in range(15)]
    for number, entry in enumerate(many):
        entry.update(alloc_mb=1.0, peak_mb=float(number + 1), timeline=held(number + 1.0))
    doc["files"]["/home/user/helper.py"]["lines"] += many

    ranking = memory_ranking(render(doc, color=False))

    assert len(ranking) == 10
    assert ranking[:2] == ["prog.py:9", "prog.py:20"]


def test_suspected_leaks_are_listed_with_likelihood_and_growth() -> None:
    text = render(memory_document(), color=False)

    leaks = text[text.index("Suspected memory leaks"):]
    row = leaks.splitlines()[3]
    assert row.split()[:3] == ["prog.py:15", "97.0%", "2.40"]
    assert "x = [1]" in row


def test_no_leak_section_without_a_suspected_leak() -> None:
    doc = memory_document()
    doc["files"]["/home/user/prog.py"]["lines"][4]["leak"] = None

    text = render(doc, color=False)

    assert "leak" not in text.lower()


def test_plain_memory_report_is_ascii() -> None:
    doc = memory_document()
    doc["files"]["/home/user/prog.py"]["lines"][2]["source"] = "    data = " + "x" * 300

    for width in (80, 100, 140):
        text = render(doc, color=False, width=width)
        assert text.isascii(), f"not ASCII at width {width}"
        assert "@" * 12 in row_of(text, 9) or width < 140


def test_colored_sparklines_use_block_characters() -> None:
    text = render(memory_document(), color=True, width=140)

    assert COLOR_SPARK[-1] * 12 in text  # line 9 holds its peak for the whole run
    assert COLOR_SPARK[0] in text  # the leak starts low


def footprint(text: str) -> str:
    row = next(row for row in text.splitlines() if row.startswith("footprint"))
    return row[len("footprint  "):][:40]


def test_footprint_sparkline_keeps_a_short_spike_when_downsampled_to_its_width() -> None:
    doc = memory_document()
    # 256 points at 10 MB but for one at 100 MB, in the 21st of 40 slices of the 12.5 s run.
    doc["timeline"] = [[index * 12.5 / 256, 100.0 if index == 130 else 10.0]
                       for index in range(256)]

    spark = footprint(render(doc, color=False))

    assert spark == "." * 20 + "@" + "." * 19


def test_footprint_sparkline_rises_with_a_rising_footprint() -> None:
    doc = memory_document()
    doc["timeline"] = [[index * 12.5 / 256, float(index + 1)] for index in range(256)]

    spark = footprint(render(doc, color=False))

    assert len(spark) == 40
    levels = [PLAIN_SPARK.index(character) for character in spark]
    assert levels == sorted(levels)
    assert (spark[0], spark[-1]) == (PLAIN_SPARK[0], PLAIN_SPARK[-1])


def test_line_sparkline_is_blank_where_the_line_held_nothing() -> None:
    doc = memory_document()
    text = render(doc, color=False, width=140)

    start = table_headers(text)[0].index("memory")
    # Held from 2 s to 9 s of 12.5 s: slices 1 (from 1.04 s) to 8 (to 9.38 s) of 12.
    assert row_of(text, 20)[start:start + 12] == " " + "@" * 8 + " " * 3


def test_memory_sparkline_column_only_on_wide_consoles() -> None:
    doc = memory_document()

    assert all("memory" not in header for header in table_headers(render(doc, color=False)))
    wide = render(doc, color=False, width=140)
    assert all("memory" in header for header in table_headers(wide))


@pytest.mark.parametrize("width", [80, 100, 120, 140])
def test_memory_columns_leave_the_source_room_on_any_console(width: int) -> None:
    text = render(memory_document(), color=False, width=width)

    assert max(len(row) for row in text.splitlines()) <= width
    assert "    total = sum(range" in row_of(text, 8)  # 21 columns at the least


def test_narrow_console_keeps_the_main_memory_columns() -> None:
    text = render(memory_document(), color=False, width=80)

    header = table_headers(text)[0]
    assert "alloc MB" in header and "peak MB" in header
    assert "762.9" in row_of(text, 9)


def test_legend_explains_every_memory_column() -> None:
    text = render(memory_document(), color=False, width=140)

    legend = text[text.index("Legend"):]
    for header in ("alloc MB", "py%", "peak MB", "avg MB", "memory", "copy MB/s", "likelihood",
                   "growth MB/s"):
        assert re.search(rf"^{re.escape(header)}  ", legend, re.MULTILINE), header
    assert "Python's allocator" in legend


def test_legend_explains_the_memory_table_columns_a_narrow_console_leaves_out() -> None:
    text = render(memory_document(), color=False, width=80)

    legend = text[text.index("Legend"):]
    assert "py%" not in table_headers(text)[0]
    assert re.search(r"^py%  ", legend, re.MULTILINE)


def test_reduced_mode_keeps_lines_that_matter_for_memory() -> None:
    doc = memory_document()
    helper = doc["files"]["/home/user/helper.py"]
    helper["lines"][0].update(alloc_mb=0.5, peak_mb=0.5)  # under 1% of 1200 MB and of 800 MB

    reduced = report.filter_reduced(doc)

    kept = [entry["line"] for entry in reduced["files"]["/home/user/prog.py"]["lines"]]
    assert 20 in kept  # 8% of the memory allocated, no time
    assert 15 in kept  # 0.4% of the time, but a suspected leak
    assert "/home/user/helper.py" not in reduced["files"]


def test_reduced_mode_keeps_a_line_with_one_percent_of_the_peak_footprint() -> None:
    doc = memory_document()
    doc["files"]["/home/user/helper.py"]["lines"][0].update(alloc_mb=1.0, peak_mb=8.0)

    reduced = report.filter_reduced(doc)

    assert [entry["line"] for entry in reduced["files"]["/home/user/helper.py"]["lines"]] == [2]


def test_reduced_note_names_memory_when_memory_was_measured() -> None:
    text = render(memory_document(), color=False, reduced=True)

    assert "of the memory allocated" in text
