"""The HTML report in a real browser: headless Chromium driven by Selenium, one browser for the
module. The profiles are real ones, made here with the heatline command, or real ones changed
to hold what a small program does not (a leak, GPU figures, several processes).

A missing browser is a failure, never a skip: `make test` installs Debian's chromium and
chromium-driver when they are missing (tests/need-browser.sh).
"""
from __future__ import annotations

import copy
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from conftest import HEATLINE, PROGRAMS, Runner
from heatline.report import filter_reduced, render_html, visible
from heatline.report import numbers
from heatline.report.document import lasting_mb, lasting_python_fraction
from heatline.report.stacks import NO_FRAME

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CALL_TREE = PROGRAMS / "call_tree.py"
# Waits for what the page does after an event (the search box waits 120 ms for more typing):
# far above what it takes, so that a loaded machine does not fail the test.
PAGE_WAIT_S = 10
MEMORY_HEADERS = {"alloc MB", "py%", "peak MB", "memory", "copy MB/s"}


def _missing(what: str) -> None:
    pytest.fail(f"the HTML report's browser tests need {what} (apt-get install chromium chromium-driver)",
                pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium (the views-test extra)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        _missing("headless Chromium and chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Real documents of examples/demo.py and tests/programs/call_tree.py: with memory, and
    with --cpu-only."""
    if not HEATLINE.exists():
        pytest.fail(f"{HEATLINE} does not exist: make install", pytrace=False)
    runner = Runner(tmp_path_factory.mktemp("html-profiles"))
    documents = {}
    for name, program, options in (("demo", EXAMPLES / "demo.py", ()),
                                   ("cpu_only", EXAMPLES / "demo.py", ("--cpu-only",)),
                                   ("call_tree", CALL_TREE, ()),
                                   ("call_tree_cpu_only", CALL_TREE, ("--cpu-only",))):
        run = runner.profile(program, options=options)
        assert run.returncode == 0, run.stderr
        documents[name] = run.profile.document
    return documents


class Page:
    """A report opened in the browser, with the look-ups the tests need."""

    def __init__(self, driver: Any, path: Path) -> None:
        self.driver = driver
        self.url = path.as_uri()
        driver.get(self.url)

    def run(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def rows(self, kind: str = "line", within: str = "") -> list[list[str]]:
        """The cells' text of each row of the line (or function) tables shown, in order."""
        return self.run(
            "return [...document.querySelectorAll(arguments[0])].filter(r => r.checkVisibility())"
            ".map(r => [...r.cells].map(c => c.textContent))",
            f"{within} tr.hl-{kind}".strip())

    def headers(self, kind: str = "line") -> list[str]:
        return self.run("return [...document.querySelectorAll(arguments[0])].map(th => th.textContent.replace(/ [\\u25B2\\u25BC]$/, ''))",
                        f"table.hl-{kind}-table th")

    def click(self, css: str) -> None:
        self.run("arguments[0].click()", self.driver.find_element("css selector", css))

    def click_header(self, header: str, kind: str = "line", within: str = "") -> None:
        self.run("""const [selector, header] = arguments;
                    [...document.querySelectorAll(selector)].find(th => th.textContent.startsWith(header)).click();""",
                 f"{within} table.hl-{kind}-table th".strip(), header)

    def wait_for(self, condition: Callable[[], bool]) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, PAGE_WAIT_S).until(lambda driver: condition())


@pytest.fixture
def open_report(browser: Any, tmp_path: Path) -> Callable[..., Page]:
    def open_report(doc: dict, **options: Any) -> Page:
        path = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.html"
        with open(path, "w", encoding="utf-8") as out:
            render_html(doc, out, **options)
        browser.get_log("browser")  # what earlier pages logged is not this page's
        browser.get_log("performance")
        return Page(browser, path)

    return open_report


def column(rows: list[list[str]], headers: list[str], header: str) -> list[str]:
    index = headers.index(header)
    return [row[index] for row in rows]


def number(cell: str) -> float:
    """A cell's number: blank is 0, "<0.1" just above 0."""
    text = cell.strip().rstrip("%")
    if not text:
        return 0.0
    return 0.01 if text.startswith("<") else float(text)


def the_file(doc: dict) -> dict:
    (file,) = doc["files"].values()
    return file


def with_minor_lines(doc: dict) -> dict:
    """The document with three more lines that matter to no one (0.2% of the time, a few KB):
    the reduced profile leaves them out."""
    doc = copy.deepcopy(doc)
    file = the_file(doc)
    template = file["lines"][0]
    total_s = sum(doc["totals"][f"{kind}_s"] for kind in ("python", "native", "system"))
    for number_ in (1, 2, 3):
        minor = {key: (0.0 if isinstance(value, float) else value) for key, value in template.items()}
        minor.update(line=number_, source=f"minor_{number_} = {number_}", python_s=0.002 * total_s,
                     python_percent=0.2, timeline=None, leak=None)
        if minor["alloc_mb"] is not None:
            minor.update(alloc_mb=0.01, python_alloc_fraction=1.0, peak_mb=0.0, avg_mb=0.0)
        file["lines"].insert(0, minor)
    return doc


# ---- what is shown ----

def test_every_line_and_function_of_the_document_has_a_row(open_report, profiles) -> None:
    doc = profiles["demo"]
    page = open_report(doc)
    file = the_file(doc)
    rows = page.rows("line")
    assert [int(row[0]) for row in rows] == sorted(line["line"] for line in file["lines"])
    sources = column(rows, page.headers("line"), "Source")
    assert sources == [line["source"] for line in sorted(file["lines"], key=lambda line: line["line"])]
    functions = page.rows("function")
    assert sorted(row[0] for row in functions) == sorted(function["name"] for function in file["functions"])


def test_numbers_are_written_as_the_terminal_report_writes_them(open_report, profiles) -> None:
    doc = profiles["demo"]
    page = open_report(doc)
    headers = page.headers("line")
    rows = page.rows("line")
    lines = sorted(the_file(doc)["lines"], key=lambda line: line["line"])
    for kind, header in (("python", "Python"), ("native", "native"), ("system", "system")):
        expected = [numbers.percent_cell(line[f"{kind}_percent"]) for line in lines]
        assert column(rows, headers, header) == expected, header
    # MB allocated, and its Python share, as both reports show them: less small blocks freed at once.
    for value, header in ((lasting_mb, "alloc MB"), (lambda line: line["peak_mb"], "peak MB"),
                          (lambda line: line["copy_mb_s"], "copy MB/s")):
        expected = [numbers.megabytes_number(value(line)) for line in lines]
        assert column(rows, headers, header) == expected, header
    shares = [numbers.fraction_percent(lasting_python_fraction(line))
              if lasting_python_fraction(line) is not None else "" for line in lines]
    assert column(rows, headers, "py%") == shares


def test_header_shows_the_run(open_report, profiles) -> None:
    doc = copy.deepcopy(profiles["demo"])
    doc["message"] = "a note for the reader"
    doc["warnings"] = ["12 CPU samples lost to a full ring"]
    page = open_report(doc)
    header = page.run("return document.querySelector('.hl-header').innerText")
    for fact in ("examples/demo.py", "elapsed", doc["python_version"], "5.0 ms",
                 "peak memory", "Note: a note for the reader", "Warning: 12 CPU samples lost to a full ring"):
        assert fact in header, fact
    assert numbers.megabytes(doc["totals"]["peak_mb"]) in header


def test_header_says_when_threads_waited_for_a_cpu(open_report, profiles) -> None:
    doc = copy.deepcopy(profiles["demo"])
    busy_s = sum(doc["totals"][f"{kind}_s"] for kind in ("python", "native", "system"))
    doc["totals"]["cpu_wait_s"] = busy_s  # as long as the program ran: a machine loaded twice over
    header = open_report(doc).run("return document.querySelector('.hl-header').innerText")
    assert f"{numbers.seconds(busy_s)} waiting for a free CPU" in header
    assert "one thread: time" in header


def test_footprint_chart_marks_the_peak(open_report, profiles) -> None:
    doc = profiles["demo"]
    page = open_report(doc)
    chart = page.run("""const figure = document.querySelector('figure.hl-footprint');
        const svg = figure.querySelector('svg'), peak = figure.querySelector('.hl-peak');
        const box = svg.viewBox.baseVal;
        return {peakX: +peak.getAttribute('x1') / box.width, peakY: 1 - +peak.getAttribute('y1') / box.height,
                caption: figure.querySelector('figcaption').textContent};""")
    end_s = max(doc["elapsed_s"], doc["timeline"][-1][0])
    assert chart["peakX"] == pytest.approx(doc["memory_peak"]["t_s"] / end_s, abs=0.01)
    assert chart["peakY"] > 0.9, "the peak is the chart's highest point"
    assert numbers.megabytes(doc["memory_peak"]["mb"]) in chart["caption"]


def test_cpu_only_document_has_no_memory_columns_and_no_footprint(open_report, profiles) -> None:
    page = open_report(profiles["cpu_only"])
    assert page.rows("line"), "the lines are shown"
    assert not MEMORY_HEADERS & set(page.headers("line")), page.headers("line")
    assert not MEMORY_HEADERS & set(page.headers("function"))
    assert page.run("return document.querySelector('.hl-footprint')") is None
    titles = page.run("return [...document.querySelectorAll('.hl-summary h2')].map(h => h.textContent)")
    assert titles == ["Top lines by time"]


GPU_DEVICE = "NVIDIA H100 80GB HBM3"


def with_gpu(doc: dict, per_process: bool = True) -> dict:
    """A real document changed as the engine writes one with the GPU measured: the first line of
    the first file kept the GPU busy (37%) and held 100 to 120 MB; the rest ran on the CPU."""
    doc["gpu"] = {"available": True, "device": GPU_DEVICE,
                  "devices": [{"index": 0, "name": GPU_DEVICE, "memory_total_mb": 81559.0}],
                  "per_process": per_process, "note": None,
                  "timeline": [[0.0, 0.0], [doc["elapsed_s"] * 0.25, 120.0], [doc["elapsed_s"] * 0.75, 0.0]]}
    doc["totals"].update(gpu_percent=12.4, gpu_mem_peak_mb=120.0)
    for file in doc["files"].values():
        for entry in (*file["lines"], *file["functions"]):
            entry.update(gpu_percent=0.0, gpu_mem_avg_mb=0.0, gpu_mem_peak_mb=0.0)
    the_file(doc)["lines"][0].update(gpu_percent=37.0, gpu_mem_avg_mb=100.0, gpu_mem_peak_mb=120.0)
    return doc


def test_gpu_columns_facts_and_memory_chart_are_shown_when_the_gpu_was_measured(open_report, profiles) -> None:
    doc = with_gpu(copy.deepcopy(profiles["demo"]))
    page = open_report(doc)
    headers = page.headers("line")
    assert {"GPU", "GPU avg MB", "GPU peak MB"} <= set(headers)
    assert {"GPU", "GPU avg MB", "GPU peak MB"} <= set(page.headers("function"))
    first = page.rows("line")[0]
    assert [first[headers.index(header)] for header in ("GPU", "GPU avg MB", "GPU peak MB")] == ["37%", "100.0", "120.0"]
    assert "0%" in column(page.rows("line"), headers, "GPU")[1:], "an idle GPU reads 0%, not blank"
    facts = page.run("return document.querySelector('.hl-header').innerText")
    assert GPU_DEVICE in facts and "this program's utilization" in facts
    assert "12% busy on average" in facts and "peak 120.0 MB of GPU memory" in facts
    chart = page.run("""const figure = document.querySelector('figure.hl-gpu-footprint');
        return figure && {title: figure.querySelector('h2').textContent,
                          top: figure.querySelector('.hl-axis-top').textContent};""")
    assert chart == {"title": "GPU memory over time", "top": "120.0 MB"}
    assert page.run("return document.querySelectorAll('figure.hl-footprint').length") == 2
    legend = page.run("return document.body.innerText")
    assert "highest GPU memory of the program while the line ran" in legend


def test_without_the_gpu_there_is_no_gpu_column_nor_chart_and_the_note_says_why(open_report, profiles) -> None:
    doc = copy.deepcopy(profiles["demo"])
    note = "no NVIDIA driver: libnvidia-ml.so.1 not found"
    doc["gpu"] = {"available": False, "device": None, "devices": [], "per_process": False,
                  "note": note, "timeline": None}
    page = open_report(doc)
    assert not {"GPU", "GPU avg MB", "GPU peak MB"} & set(page.headers("line"))
    assert page.run("return document.querySelector('.hl-gpu-footprint')") is None
    assert f"GPU: {note}" in page.run("return document.querySelector('.hl-header').innerText")


def test_a_device_wide_reading_is_named_so(open_report, profiles) -> None:
    page = open_report(with_gpu(copy.deepcopy(profiles["cpu_only"]), per_process=False))
    assert "the whole device's utilization" in page.run("return document.querySelector('.hl-header').innerText")
    assert page.run("return document.querySelector('figure.hl-gpu-footprint h2').textContent") == "GPU memory over time"


def test_leaks_gpu_processes_and_profile_restriction_are_shown(open_report, profiles) -> None:
    doc = copy.deepcopy(profiles["demo"])
    file_path, file = next(iter(doc["files"].items()))
    leaking = file["lines"][0]
    leaking["leak"] = {"likelihood": 0.996, "mb_s": 1.234}
    with_gpu(doc)
    child = {**doc["processes"][0], "pid": 99999, "ppid": doc["processes"][0]["pid"], "start_method": "fork"}
    doc["processes"].append(child)
    function = next(f for f in file["functions"] if f["name"] == "python_work")
    last = max(line["line"] for line in file["lines"] if line["line"] < 16)
    doc["profiled_functions"] = [{"file": file_path, "name": "python_work",
                                  "first_line": function["line"], "last_line": last}]
    page = open_report(doc)
    shown = visible(doc)
    assert [int(row[0]) for row in page.rows("line")] == [line["line"] for line in the_file(shown)["lines"]]
    assert "Only functions decorated with @profile are shown: python_work" in page.run("return document.body.innerText")
    headers = page.headers("line")
    assert {"GPU", "GPU avg MB", "GPU peak MB", "leak"} <= set(headers)
    leak_cells = [cell for cell in column(page.rows("line"), headers, "leak") if cell]
    assert leak_cells == ["99.6% 1.23 MB/s"], "a likelihood is cut, never rounded up to 100%"
    assert page.run("return document.querySelector('.hl-processes').innerText").count("99999") == 1


def test_source_text_is_shown_as_written(open_report, profiles) -> None:
    doc = copy.deepcopy(profiles["demo"])
    tricky = '    if a < b and "</script><b>" != \'&amp;\':  # \u00e9\u4e2d'
    the_file(doc)["lines"][0]["source"] = tricky
    page = open_report(doc)
    assert column(page.rows("line"), page.headers("line"), "Source")[0] == tricky
    assert page.run("return document.querySelectorAll('b').length") == 0
    out = io.StringIO()
    render_html(doc, out)
    assert out.getvalue().isascii(), "any stream takes the page, whatever its encoding"


def test_a_run_without_lines_shows_its_message(open_report, profiles) -> None:
    doc = copy.deepcopy(profiles["cpu_only"])
    doc["files"] = {}
    doc["message"] = "the program finished before any sample was taken"
    page = open_report(doc)
    text = page.run("return document.body.innerText")
    assert "Note: the program finished before any sample was taken" in text
    assert page.run("return document.querySelector('.hl-toolbar')") is None
    assert [entry for entry in page.driver.get_log("browser") if entry["level"] == "SEVERE"] == []


# ---- what the page does ----

def test_clicking_a_header_sorts_its_table(open_report, profiles) -> None:
    doc = profiles["demo"]
    page = open_report(doc)
    headers = page.headers("line")
    page.click_header("Python")
    descending = [number(cell) for cell in column(page.rows("line"), headers, "Python")]
    assert descending == sorted(descending, reverse=True) and descending[0] > 0
    page.click_header("Python")
    ascending = [number(cell) for cell in column(page.rows("line"), headers, "Python")]
    assert ascending == sorted(ascending)
    page.click_header("Source")
    initials = [text.strip()[0].lower() for text in column(page.rows("line"), headers, "Source")]
    assert initials == sorted(initials)
    page.click_header("Line")
    numbers = [int(row[0]) for row in page.rows("line")]
    assert numbers == sorted(numbers)

    summary = ".hl-summary:nth-child(3)"  # top lines by memory, after the chart and by time
    assert page.run(f"return document.querySelector('{summary} h2').textContent").startswith("Top lines by memory")
    page.click_header("alloc MB", kind="summary", within=summary)
    allocated = [number(cell) for cell in page.run(
        f"return [...document.querySelectorAll('{summary} tbody tr')].map(row => row.cells[1].textContent)")]
    assert allocated == sorted(allocated, reverse=True)


def test_a_file_folds_and_unfolds(open_report, profiles) -> None:
    doc = profiles["demo"]
    page = open_report(doc)
    count = len(the_file(doc)["lines"])
    assert len(page.rows("line")) == count
    page.click("details.hl-file > summary")
    assert page.rows("line") == []
    page.click("details.hl-file > summary")
    page.wait_for(lambda: len(page.rows("line")) == count)
    page.click("button.hl-fold-all")
    assert page.rows("line") == []
    page.click("button.hl-unfold-all")
    page.wait_for(lambda: len(page.rows("line")) == count)


def test_reduced_toggle_shows_what_filter_reduced_keeps(open_report, profiles) -> None:
    doc = with_minor_lines(profiles["demo"])
    all_lines = len(the_file(doc)["lines"])
    reduced = the_file(filter_reduced(doc))
    assert len(reduced["lines"]) < all_lines, "the minor lines are left out of the reduced profile"
    page = open_report(doc)
    assert len(page.rows("line")) == all_lines
    page.click("input.hl-reduced")
    page.wait_for(lambda: len(page.rows("line")) == len(reduced["lines"]))
    assert [int(row[0]) for row in page.rows("line")] == [line["line"] for line in reduced["lines"]]
    assert len(page.rows("function")) == len(reduced["functions"])
    page.click("input.hl-reduced")
    page.wait_for(lambda: len(page.rows("line")) == all_lines)

    page = open_report(doc, reduced=True)
    assert len(page.rows("line")) == len(reduced["lines"])


def test_search_filters_by_source_text_and_file_path(open_report, profiles) -> None:
    doc = profiles["demo"]
    page = open_report(doc)
    lines = the_file(doc)["lines"]
    search = page.driver.find_element("css selector", "input.hl-search")
    search.send_keys("ZLIB")
    wanted = [line["line"] for line in lines if "zlib" in line["source"].lower()]
    assert wanted, "demo.py compresses with zlib"
    page.wait_for(lambda: [int(row[0]) for row in page.rows("line")] == wanted)
    search.clear()
    search.send_keys("demo.py")
    page.wait_for(lambda: len(page.rows("line")) == len(lines))
    search.clear()
    search.send_keys("no line has this")
    page.wait_for(lambda: page.run("return document.querySelector('details.hl-file').hidden"))


def test_page_logs_no_error_and_requests_nothing_but_itself(open_report, profiles) -> None:
    page = open_report(profiles["demo"])
    page.click_header("native")
    page.click("input.hl-reduced")
    flame = Flame(page)
    flame.hover(("<module>", "main"))
    flame.click_frame(("<module>", "main"))
    flame.choose("allocated MB")
    flame.search("work")
    page.wait_for(lambda: flame.text(".hl-flame-found"))
    errors = [entry for entry in page.driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    requested = set()
    for entry in page.driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.add(message["params"]["request"]["url"])
    assert requested == {page.url}


def test_notebook_fragments_are_scoped_and_each_works(browser, profiles, tmp_path) -> None:
    fragments = []
    for doc in (profiles["demo"], with_minor_lines(profiles["demo"])):
        out = io.StringIO()
        render_html(doc, out, standalone=False)
        fragments.append(out.getvalue())
    ids = [re.match(r'<div id="([\w-]+)"', fragment).group(1) for fragment in fragments]
    assert len(set(ids)) == 2, "each fragment has its own root id"
    path = tmp_path / "notebook.html"
    path.write_text("<!DOCTYPE html><html><body><table id='outside'><tr><th>cell</th></tr></table>"
                    + "".join(f"<div class='output'>{fragment}</div>" for fragment in fragments)
                    + "</body></html>")
    page = Page(browser, path)
    for root_id in ids:
        selectors = page.run("""
            const selectors = [];
            const walk = (rules) => { for (const rule of rules) {
                if (rule.selectorText !== undefined) selectors.push(rule.selectorText);
                if (rule.cssRules) walk(rule.cssRules); } };
            walk(document.querySelector('#' + arguments[0] + ' > style').sheet.cssRules);
            return selectors;""", root_id)
        assert selectors
        unscoped = [selector for selector in selectors
                    if not all(part.strip().startswith(f"#{root_id}") for part in selector.split(","))]
        assert unscoped == []
    first, second = (f"#{root_id}" for root_id in ids)
    count = len(the_file(profiles["demo"])["lines"])
    assert len(page.rows("line", first)) == count
    assert len(page.rows("line", second)) == count + 3
    page.click(f"{second} input.hl-reduced")
    page.wait_for(lambda: len(page.rows("line", second)) == len(the_file(filter_reduced(with_minor_lines(profiles["demo"])))["lines"]))
    assert len(page.rows("line", first)) == count, "the first report kept all its lines"
    page.click_header("Source", within=first)
    assert page.run("return document.querySelector(arguments[0] + ' th[aria-sort=ascending]').textContent",
                    first).startswith("Source")
    assert page.run("return document.querySelector(arguments[0] + ' th[aria-sort=ascending]').textContent",
                    second).startswith("Line")
    padding = page.run("return getComputedStyle(document.querySelector('#outside th')).paddingLeft")
    assert padding == "1px", "the page's own table keeps the browser's style"


def test_a_fragment_inserted_as_jupyterlab_does_works(browser, profiles, tmp_path) -> None:
    """JupyterLab sets an output's HTML on a detached element, replaces each script by a copy
    (which runs once the element is attached), then attaches it."""
    out = io.StringIO()
    render_html(profiles["demo"], out, standalone=False)
    path = tmp_path / "lab.html"
    path.write_text("<!DOCTYPE html><html><body></body></html>")
    page = Page(browser, path)
    page.run("""const host = document.createElement('div');
        host.innerHTML = arguments[0];
        for (const script of [...host.getElementsByTagName('script')]) {
            const copy = document.createElement('script');
            for (const attribute of script.attributes) copy.setAttribute(attribute.name, attribute.value);
            copy.textContent = script.textContent;
            script.parentNode.replaceChild(copy, script);
        }
        document.body.appendChild(host);""", out.getvalue())
    page.wait_for(lambda: len(page.rows("line")) == len(the_file(profiles["demo"])["lines"]))


def test_a_20000_line_profile_stays_under_5_mb(profiles) -> None:
    """The issue's bound, for lines that each carry everything a line can: every memory field,
    a 64-point timeline, a 100-character source line."""
    doc = copy.deepcopy(profiles["demo"])
    (path, file), = doc["files"].items()
    template = max(file["lines"], key=lambda line: len(line["timeline"] or ()))
    end_s = doc["elapsed_s"]
    timeline = [[round(end_s * i / 64, 4), 1.5 + i % 7] for i in range(64)]
    lines = [{**template, "line": number, "source": f"    value_{number} = compute(x)".ljust(100, "#"),
              "timeline": timeline, "leak": {"likelihood": 0.97, "mb_s": 1.5}}
             for number in range(1, 201)]
    doc["files"] = {f"{path[:-3]}_{copy_number}.py": {**file, "lines": lines} for copy_number in range(100)}
    out = io.StringIO()
    render_html(doc, out)
    assert len(out.getvalue().encode()) < 5 * 2**20


def test_standalone_page_names_nothing_to_load(profiles) -> None:
    out = io.StringIO()
    render_html(profiles["demo"], out)
    page = out.getvalue()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""\b(src|href)\s*=|@import|url\(""", page)


# ---- the flame graph ----

# Where the page puts a frame against where the stacks say it goes: left and width are written
# to 1/100 px and laid out in 1/64 px.
FLAME_TOLERANCE_PX = 0.1
# A frame narrower than this is not drawn (nor its callees).
FLAME_MIN_PX = 1
TIME_KEYS = ("python_s", "native_s", "system_s")
FLAME_VIEWS = {"time": TIME_KEYS, "allocated MB": ("alloc_mb",), "memory at the peak": ("peak_mb",)}


def inclusive_sums(doc: dict, keys: tuple[str, ...]) -> dict[tuple[str, ...], float]:
    """The value of every path of function names from the root (() is all of them): the sum of
    `keys` over the stacks that pass through it, as a flame graph's widths are."""
    frames = doc["stacks"]["frames"]
    sums: dict[tuple[str, ...], float] = {}
    for stack in doc["stacks"]["stacks"]:
        value = sum(stack[key] for key in keys)
        names = tuple(frames[index]["function"] for index in stack["frames"]) or (NO_FRAME,)
        for depth in range(len(names) + 1):
            sums[names[:depth]] = sums.get(names[:depth], 0.0) + value
    return sums


class Flame:
    """The flame graph of a page (of the report `within`, on a notebook page)."""

    def __init__(self, page: Page, within: str = "") -> None:
        self.page = page
        self.section = f"{within} section.hl-flame".strip()

    def frames(self) -> dict[tuple[str, ...], dict]:
        """Every frame drawn, by its path of names from the root (the root `all` is ()), with its
        left, width (px in the chart) and classes; and the chart's width under the key None."""
        drawn = self.page.run("""
            const chart = document.querySelector(arguments[0] + ' .hl-flame-chart');
            const box = chart.getBoundingClientRect();
            return {width: chart.clientWidth, frames: [...chart.querySelectorAll('.hl-frame')].map((frame) => {
                const r = frame.getBoundingClientRect();
                return {name: frame.textContent, left: r.left - box.left, top: r.top, width: r.width,
                        classes: [...frame.classList], p: frame.style.getPropertyValue('--p'),
                        n: frame.style.getPropertyValue('--n')};
            })};""", self.section)
        tops = sorted({frame["top"] for frame in drawn["frames"]})
        by_depth: dict[int, list[dict]] = {}
        for frame in drawn["frames"]:
            by_depth.setdefault(tops.index(frame["top"]), []).append(frame)
        found: dict[Any, Any] = {None: drawn["width"]}
        for depth in sorted(by_depth):
            for frame in by_depth[depth]:
                if depth == 0:
                    frame["path"] = ()
                else:
                    (parent,) = [p for p in by_depth[depth - 1]
                                 if p["left"] - FLAME_TOLERANCE_PX <= frame["left"]
                                 and frame["left"] + frame["width"] <= p["left"] + p["width"] + FLAME_TOLERANCE_PX]
                    frame["path"] = (*parent["path"], frame["name"])
                assert frame["path"] not in found, frame["path"]
                found[frame["path"]] = frame
        return found

    def click_frame(self, path: tuple[str, ...]) -> None:
        self.page.run("arguments[0].click()", self._element(path))

    def _element(self, path: tuple[str, ...]) -> Any:
        """The element of the frame at `path` (found by its place: names repeat)."""
        frame = self.frames()[path]
        return self.page.run("""const [section, left, top] = arguments;
            const chart = document.querySelector(section + ' .hl-flame-chart');
            const box = chart.getBoundingClientRect();
            return [...chart.querySelectorAll('.hl-frame')].find((f) => {
                const r = f.getBoundingClientRect();
                return Math.abs(r.left - box.left - left) < 0.01 && Math.abs(r.top - top) < 0.01; });""",
                             self.section, frame["left"], frame["top"])

    def text(self, css: str) -> str:
        return self.page.run("return document.querySelector(arguments[0]).textContent", f"{self.section} {css}")

    def views(self) -> list[str]:
        return self.page.run("return [...document.querySelectorAll(arguments[0])].map(b => b.textContent)",
                             f"{self.section} button.hl-flame-view")

    def choose(self, view: str) -> None:
        self.page.run("""[...document.querySelectorAll(arguments[0])].find(b => b.textContent === arguments[1]).click()""",
                      f"{self.section} button.hl-flame-view", view)

    def search(self, text: str) -> None:
        box = self.page.driver.find_element("css selector", f"{self.section} input.hl-flame-search")
        box.clear()
        box.send_keys(text)

    def hover(self, path: tuple[str, ...]) -> str:
        """What the frame at `path` shows when the pointer is on it."""
        return self.page.run("""const [section, target] = arguments;
            const r = target.getBoundingClientRect();
            target.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: r.left + 2, clientY: r.top + 2}));
            return document.querySelector(section + ' .hl-flame-tip').innerText;""",
                             self.section, self._element(path))


def assert_widths_are_the_inclusive_sums(flame: Flame, doc: dict, keys: tuple[str, ...],
                                         zoom: tuple[str, ...] = ()) -> dict[tuple[str, ...], dict]:
    """Every frame under `zoom` (the root unless zoomed) is drawn as wide as its share of the
    zoomed frame's sum of `keys`, at its place; none that is narrower than FLAME_MIN_PX, or under
    one that is, and every other one is drawn."""
    sums = inclusive_sums(doc, keys)
    frames = flame.frames()
    width = frames[None]
    scale = width / sums[zoom]
    for path, frame in frames.items():
        if path is None or path[:len(zoom)] != zoom:
            continue
        assert frame["width"] == pytest.approx(sums[path] * scale, abs=FLAME_TOLERANCE_PX), path
    wide = {path for path, value in sums.items() if path[:len(zoom)] == zoom and value * scale >= FLAME_MIN_PX}
    visible = {path for path in wide if all(path[:depth] in wide for depth in range(len(zoom), len(path)))}
    unsure = {path for path in visible
              if any(abs(sums[path[:depth]] * scale - FLAME_MIN_PX) < FLAME_TOLERANCE_PX
                     for depth in range(len(zoom), len(path) + 1))}
    drawn = {path for path in frames if path is not None and path[:len(zoom)] == zoom}
    assert visible - unsure <= drawn <= visible, (sorted(drawn ^ visible))
    return frames


def under_main(doc: dict, keys: tuple[str, ...]) -> dict[str, float]:
    sums = inclusive_sums(doc, keys)
    return {name: sums[("<module>", "main", name)] for name in ("heavy", "light")}


@pytest.mark.parametrize("view", list(FLAME_VIEWS))
def test_flame_graph_frames_are_as_wide_as_their_stacks_inclusive_sums(open_report, profiles, view) -> None:
    doc = profiles["call_tree"]
    flame = Flame(open_report(doc))
    assert flame.views() == list(FLAME_VIEWS), "one view per value measured; no GIL wait in one thread"
    flame.choose(view)
    frames = assert_widths_are_the_inclusive_sums(flame, doc, FLAME_VIEWS[view])
    assert frames[()]["width"] == pytest.approx(frames[None], abs=FLAME_TOLERANCE_PX), "the root is all"
    assert frames[("<module>",)]["width"] > 0.9 * frames[None], "the program's module holds nearly all"
    if view != "memory at the peak":  # shared holds nothing then
        assert {("<module>", "main", caller, "shared") for caller in ("heavy", "light")} <= frames.keys()
    # call_tree.py's design: heavy holds the most time and all of the peak, light allocates most.
    heavy, light = (frames.get(("<module>", "main", name), {"width": 0.0})["width"] for name in ("heavy", "light"))
    assert (heavy > light) == (view != "allocated MB"), (heavy, light)


def test_time_frames_are_split_by_kind(open_report, profiles) -> None:
    """Each frame's bar ends its Python and its native segment where the document's sums say.
    Checked on the program's frame with the most native time (the bytearrays' zeroing; which
    function's samples caught it varies from run to run), and on heavy, mostly Python."""
    doc = profiles["call_tree"]
    frames = Flame(open_report(doc)).frames()
    sums = {key: inclusive_sums(doc, (key,)) for key in TIME_KEYS}
    drawn = [path for path, frame in frames.items() if path and "hl-program" in frame["classes"]]
    most_native = max(drawn, key=lambda path: sums["native_s"].get(path, 0.0))
    for path in {most_native, ("<module>", "main", "heavy")}:
        time_s = sum(sums[key][path] for key in TIME_KEYS)
        python_end = sums["python_s"][path] / time_s * 100
        native_end = python_end + sums["native_s"][path] / time_s * 100
        assert float(frames[path]["p"].rstrip("%")) == pytest.approx(python_end, abs=0.01), path
        assert float(frames[path]["n"].rstrip("%")) == pytest.approx(native_end, abs=0.01), path
        assert "hl-program" in frames[path]["classes"]
    python_end = sums["python_s"][most_native] / sum(sums[key][most_native] for key in TIME_KEYS) * 100
    assert float(frames[most_native]["n"].rstrip("%")) > python_end, "some native segment was drawn"


def test_clicking_a_frame_zooms_into_it_and_the_path_leads_back(open_report, profiles) -> None:
    doc = profiles["call_tree"]
    page = open_report(doc)
    flame = Flame(page)
    heavy = ("<module>", "main", "heavy")
    before = flame.frames()[heavy]["width"]
    flame.click_frame(heavy)
    frames = assert_widths_are_the_inclusive_sums(flame, doc, TIME_KEYS, zoom=heavy)
    assert frames[heavy]["width"] == pytest.approx(frames[None], abs=FLAME_TOLERANCE_PX)
    assert ("<module>", "main", "light") not in frames, "only the zoomed frame's callees and callers"
    for caller in ((), ("<module>",), ("<module>", "main")):
        assert frames[caller]["width"] == pytest.approx(frames[None], abs=FLAME_TOLERANCE_PX), caller
    assert flame.text(".hl-flame-path") == "all \u203a <module> \u203a main \u203a heavy"
    page.click(f"{flame.section} .hl-flame-path button.hl-flame-up")  # the first: all
    assert flame.frames()[heavy]["width"] == pytest.approx(before, abs=FLAME_TOLERANCE_PX)
    flame.click_frame(heavy)
    flame.click_frame(())
    assert flame.frames()[heavy]["width"] == pytest.approx(before, abs=FLAME_TOLERANCE_PX), "clicking all zooms out"


@pytest.mark.parametrize("query, names", [("SHARED", {"shared"}),
                                          ("call_tree", {"<module>", "main", "heavy", "light", "shared"})])
def test_search_highlights_the_matching_frames_and_says_their_share(open_report, profiles, query, names) -> None:
    doc = profiles["call_tree"]
    page = open_report(doc)
    flame = Flame(page)
    flame.search(query)
    page.wait_for(lambda: flame.text(".hl-flame-found"))
    frames = flame.frames()
    found = {path for path, frame in frames.items() if path is not None and "hl-found" in frame["classes"]}
    assert found == {path for path in frames if path and path[-1] in names}
    # Matches inside a match are counted once: the share is the outermost matches' sum.
    sums = inclusive_sums(doc, TIME_KEYS)
    held = sum(value for path, value in sums.items()
               if path and path[-1] in names and not any(name in names for name in path[:-1]))
    count = f"{len(names)} function{'s match' if len(names) > 1 else ' matches'}"
    assert flame.text(".hl-flame-found") == (f"{count}: {numbers.percent(held / sums[()] * 100)} of the time"
                                             f" (Python, native and system) ({numbers.seconds(held)})")


def _either_rounding(show: Callable[[float], str], value: float) -> set[str]:
    """`value` as `show` writes it, and as it writes the sums a hair either side: the page adds
    the stacks' values in its own order, so a value on a rounding boundary may go either way."""
    return {show(value * (1 + change)) for change in (-1e-9, 0.0, 1e-9)}


def test_hovering_a_frame_shows_its_place_its_value_and_its_kinds(open_report, profiles) -> None:
    doc = profiles["call_tree"]
    flame = Flame(open_report(doc))
    heavy = ("<module>", "main", "heavy")
    tip = flame.hover(heavy).splitlines()
    sums = {key: inclusive_sums(doc, (key,)) for key in (*TIME_KEYS, "gil_wait_s", "alloc_mb", "peak_mb")}
    time_s = sum(sums[key][heavy] for key in TIME_KEYS)
    all_s = sum(sums[key][()] for key in TIME_KEYS)
    frames = doc["stacks"]["frames"]
    by_line: dict[int, float] = {}
    for stack in doc["stacks"]["stacks"]:
        names = [frames[index]["function"] for index in stack["frames"]]
        if names[:3] == list(heavy):
            line = frames[stack["frames"][2]]["line"]
            by_line[line] = by_line.get(line, 0.0) + sum(stack[key] for key in TIME_KEYS)
    busiest = max(by_line, key=by_line.get)
    assert tip[0] == "heavy"
    assert tip[1].startswith(f"{numbers.shown_path(str(CALL_TREE))}:{busiest}"), tip[1]
    shown_time, shown_share = re.match(r"time: (.+?), (.+?) of all", tip[2]).groups()
    assert shown_time in _either_rounding(numbers.seconds, time_s), tip[2]
    assert shown_share in _either_rounding(numbers.percent, time_s / all_s * 100), tip[2]
    kinds = (("Python", "python_s"), ("native", "native_s"), ("system", "system_s"), ("GIL wait", "gil_wait_s"))
    assert len(tip[3].split(", ")) == len(kinds), tip[3]
    for (name, key), part in zip(kinds, tip[3].split(", ")):
        shown_name, shown_value = part.split(" ", 1) if name != "GIL wait" else ("GIL wait", part[len("GIL wait "):])
        assert shown_name == name and shown_value in _either_rounding(numbers.seconds, sums[key][heavy]), tip[3]
    assert tip[4] == (f"allocated {numbers.megabytes(sums['alloc_mb'][heavy])},"
                      f" at the peak {numbers.megabytes(sums['peak_mb'][heavy])}")


def test_cpu_only_flame_graph_has_no_memory_views(open_report, profiles) -> None:
    doc = profiles["call_tree_cpu_only"]
    flame = Flame(open_report(doc))
    assert flame.views() == ["time"]
    assert_widths_are_the_inclusive_sums(flame, doc, TIME_KEYS)
    assert "allocated" not in flame.hover(("<module>", "main", "heavy"))


def test_a_document_without_stacks_has_no_flame_graph(open_report, profiles) -> None:
    doc = copy.deepcopy(profiles["call_tree"])
    del doc["stacks"]
    page = open_report(doc)
    assert page.run("return document.querySelector('section.hl-flame')") is None
    assert page.rows("line"), "the rest of the report is there"
    assert [entry for entry in page.driver.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_flame_graphs_of_two_notebook_fragments_each_work(browser, profiles, tmp_path) -> None:
    fragments = []
    for name in ("call_tree", "demo"):
        out = io.StringIO()
        render_html(profiles[name], out, standalone=False)
        fragments.append(out.getvalue())
    ids = [re.match(r'<div id="([\w-]+)"', fragment).group(1) for fragment in fragments]
    path = tmp_path / "notebook.html"
    path.write_text("<!DOCTYPE html><html><body>" + "".join(f"<div class='output'>{f}</div>" for f in fragments)
                    + "</body></html>")
    page = Page(browser, path)
    first, second = (Flame(page, f"#{root_id}") for root_id in ids)
    heavy = ("<module>", "main", "heavy")
    first.click_frame(heavy)
    assert_widths_are_the_inclusive_sums(first, profiles["call_tree"], TIME_KEYS, zoom=heavy)
    assert_widths_are_the_inclusive_sums(second, profiles["demo"], TIME_KEYS)
    second.search("python_work")
    page.wait_for(lambda: second.text(".hl-flame-found"))
    assert [path for path, frame in second.frames().items() if path and "hl-found" in frame["classes"]]
    assert first.text(".hl-flame-found") == "", "the other report's search is its own"
    second.choose("allocated MB")
    assert_widths_are_the_inclusive_sums(second, profiles["demo"], ("alloc_mb",))
    assert_widths_are_the_inclusive_sums(first, profiles["call_tree"], TIME_KEYS, zoom=heavy)
