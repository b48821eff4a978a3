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
        "samples": {"cpu": 1000, "dropped": 0},
        "message": None,
        "totals": {
            "python_s": 5.0, "native_s": 3.0, "system_s": 2.0, "gil_wait_s": 0.0,
            "outside_program_s": 0.0,
            "alloc_mb": None, "peak_mb": None, "copy_mb": None, "gpu_percent": None,
        },
        "timeline": None,
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


def test_decorated_functions_restriction_is_stated() -> None:
    decorated = [
        {"file": "/home/user/prog.py", "name": "compute", "first_line": 5, "last_line": 10}
    ]

    text = render(sample_document(profiled_functions=decorated), color=False)

    assert "@profile" in text
    assert "compute" in text


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


def test_write_json_round_trips_and_ends_with_a_newline() -> None:
    doc = sample_document()
    out = io.StringIO()

    report.write_json(doc, out)

    assert out.getvalue().endswith("}\n")
    assert json.loads(out.getvalue()) == doc
