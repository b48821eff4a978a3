"""The README's generated sections, made from the recorded results in benchmarks/results/.

README.md holds each section between `<!-- generated: NAME -->` and `<!-- end generated -->`:

  demo      the demo output (the latest demo-*.json, recorded by benchmarks/demo.py)
  machine   the machine and the tools' versions of the runs behind the tables
  goals     the performance goals, and whether the tables meet them
  notes     the runs behind the tables: commits, rows taken from each, peak RSS, failures
  overhead  the overhead tables (overhead-*.json: every full run, each profiler from the latest run
            that measured it; the latest --quick run only when there is no full one)
  accuracy  the accuracy table (the latest accuracy-*.json)

Without an option the sections are printed. --check exits 1, one line per section, when
README.md's sections differ from these; --write rewrites them in place. --compare FILE prints
heatline before and after from one run made with --baseline. Nothing is measured here, and only
the standard library is used: `make check-readme` runs it with the system python3.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import benchenv

README = benchenv.REPO_ROOT / "README.md"
SECTION_PATTERN = re.compile(r"<!-- generated: (?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- end generated -->", re.DOTALL)
TOOL_NAMES = {"heatline": "heatline", "scalene": "Scalene", "memray": "memray", "py-spy": "py-spy",
              "pyinstrument": "pyinstrument", "yappi": "yappi", "line_profiler": "line_profiler",
              "memory_profiler": "memory_profiler", "pyperformance": "pyperformance", "pyperf": "pyperf"}
# Overhead goals: (configuration, statistic over the pyperformance workloads, highest slowdown allowed).
OVERHEAD_GOALS = [("heatline", "median", 1.05), ("heatline", "max", 1.3), ("heatline --cpu-only", "median", 1.01)]
STATISTIC_TEXT = {"median": "median", "max": "worst"}
# The demo block ends before the legend: the README's column table explains the same.
DEMO_CUT_BEFORE = "Legend"


@dataclass(eq=False)
class OverheadRun:
    path: Path
    document: dict


@dataclass(eq=False)
class OverheadRow:
    """One profiler's results, taken whole from the latest run that measured it."""
    config: dict
    run: OverheadRun

    @property
    def name(self) -> str:
        return self.config["name"]

    @property
    def cells(self) -> dict:
        return self.run.document["results"][self.name]


def shown_path(path: Path) -> str:
    """The path from the repository root, as the README shows it; as given when outside the repository."""
    try:
        return str(path.resolve().relative_to(benchenv.REPO_ROOT))
    except ValueError:
        return str(path)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        sys.exit(f"report.py: cannot read {path}: {error}")


def default_overhead_runs() -> list[OverheadRun]:
    """Every full overhead run, oldest first; the latest --quick run when there is no full one."""
    runs = [OverheadRun(path, read_json(path)) for path in sorted(benchenv.RESULTS_DIR.glob("overhead-*.json"))]
    return [run for run in runs if not run.document.get("quick")] or runs[-1:]


def merged_order(orders: list[list[str]]) -> list[str]:
    """The last order, with each name only an earlier order has placed right after the name it follows there."""
    merged: list[str] = []
    for order in reversed(orders):
        for previous, name in zip([None, *order], order):
            if name not in merged:
                merged.insert(0 if previous is None else merged.index(previous) + 1, name)
    return merged


def profiled_configurations(document: dict) -> list[dict]:
    """Every configuration but plain Python and heatline as of another commit (--compare shows that)."""
    return [config for config in document["configurations"] if config["name"] != "python" and "@" not in config["name"]]


def merge_overhead_runs(runs: list[OverheadRun]) -> list[OverheadRow]:
    """Each profiler from the latest of `runs` (oldest first) that measured it, or, skipped in all of them,
    from the latest that lists it."""
    chosen: dict[str, OverheadRow] = {}
    for run in runs:
        for config in profiled_configurations(run.document):
            earlier = chosen.get(config["name"])
            if earlier is None or not config["skipped"] or earlier.config["skipped"]:
                chosen[config["name"]] = OverheadRow(config, run)
    # The run that lists the most profilers sets the order (a small run of one slow tool must not
    # put it first); the others' profilers go right after those they follow in their own runs.
    orders = [[config["name"] for config in profiled_configurations(run.document)] for run in runs]
    order = merged_order(sorted(orders, key=len))
    return [chosen[name] for name in order]


def runs_used(rows: list[OverheadRow]) -> list[OverheadRun]:
    """The runs the rows come from, newest first."""
    return sorted({row.run for row in rows}, key=lambda run: run.document["date"], reverse=True)


def run_labels(runs: list[OverheadRun]) -> dict[OverheadRun, str]:
    """How the tables name a run: its day, or its full date when two runs share a day."""
    days = [run.document["date"][:10] for run in runs]
    full = len(set(days)) < len(days)
    return {run: run.document["date"] if full else day for run, day in zip(runs, days)}


def machine_line(document: dict) -> str:
    machine = document["machine"]
    return (f"{machine['cpu_model']}, {machine['cpu_count']} cores, {machine['memory_gib']} GiB, "
            f"{machine['os']}, Python {machine['python_version']}")


def versions_line(rows: list[OverheadRow], documents: list[dict]) -> str:
    """Each profiler's version in the runs its rows come from; the other tools' in all `documents`."""
    parts = []
    for name, label in TOOL_NAMES.items():
        sources = [row.run.document for row in rows if row.name.split()[0] == name] or documents
        versions = dict.fromkeys(document["tools"][name] for document in sources if document["tools"].get(name))
        if versions:
            parts.append(f"{label} {' / '.join(versions)}")
    return ", ".join(parts)


def markdown_table(headers: list[str], rows: list[list[str]], left_columns: int = 1) -> str:
    align = ["---" if i < left_columns else "---:" for i in range(len(headers))]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [headers, align, *rows])


def lead_headers(labels: dict[OverheadRun, str]) -> list[str]:
    """The profiler column, and the run column when the rows come from more than one run."""
    return ["profiler", *(["run"] if len(labels) > 1 else [])]


def lead_cells(row: OverheadRow, labels: dict[OverheadRun, str]) -> list[str]:
    return [f"`{row.name}`", *([labels[row.run]] if len(labels) > 1 else [])]


def overhead_summary(rows: list[OverheadRow], labels: dict[OverheadRun, str]) -> str:
    table = []
    for row in rows:
        if row.config["skipped"]:
            table.append([*lead_cells(row, labels), "skipped: " + row.config["skipped"], "", "", "", ""])
            continue
        summary = row.run.document["summary"].get(row.name, {})
        pyperf, own = summary.get("pyperformance"), summary.get("own")
        rss = [cell["rss_ratio_median"] for cell in row.cells.values() if "rss_ratio_median" in cell]
        table.append([
            *lead_cells(row, labels),
            f"{pyperf['median']:.2f}x" if pyperf else "-",
            f"{pyperf['geomean']:.2f}x" if pyperf else "-",
            f"{pyperf['max']:.2f}x ({pyperf['max_workload']})" if pyperf else "-",
            f"{own['geomean']:.2f}x" if own else "-",
            f"{max(rss):.2f}x" if rss else "-",
        ])
    headers = [*lead_headers(labels), "median", "geometric mean", "worst (workload)", "own workloads (geo. mean)",
               "peak RSS (worst)"]
    return markdown_table(headers, table, left_columns=len(lead_headers(labels)))


def overhead_full_table(rows: list[OverheadRow], workloads: list[dict], labels: dict[OverheadRun, str]) -> str:
    table = []
    for row in rows:
        if row.config["skipped"]:
            continue
        cells = [row.cells.get(workload["name"]) for workload in workloads]
        table.append([*lead_cells(row, labels), *("" if cell is None else "failed" if "failure" in cell
                                                  else f"{cell['ratio_median']:.2f}x" for cell in cells)])
    headers = [*lead_headers(labels), *(workload["label"] for workload in workloads)]
    return markdown_table(headers, table, left_columns=len(lead_headers(labels)))


def merged_workloads(runs: list[OverheadRun]) -> list[dict]:
    """Every workload of `runs` (newest first), in the newest run's order, as the newest run with it describes it."""
    oldest_first = runs[::-1]
    described = {workload["name"]: workload for run in oldest_first for workload in run.document["workloads"]}
    order = merged_order([[workload["name"] for workload in run.document["workloads"]] for run in oldest_first])
    return [described[name] for name in order]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def rounds_text(method: dict) -> str:
    return f"{plural(method['warmup_rounds'], 'warm-up round')}, then {plural(method['repetitions'], 'round')}"


def method_text(runs: list[OverheadRun], labels: dict[OverheadRun, str]) -> str:
    """How the rounds ran, per run when the runs differ."""
    rounds = {run: rounds_text(run.document["method"]) for run in runs}
    if len(set(rounds.values())) == 1:
        text = (f"Each workload ran as a whole process: {rounds[runs[0]]} in which every profiler ran once, "
                "in turn.")
    else:
        per_run = "; ".join(f"{rounds[run]} in the run of {labels[run]}" for run in runs)
        text = f"Each workload ran as a whole process, every profiler once per round, in turn: {per_run}."
    quick = [labels[run] for run in runs if run.document.get("quick")]
    if len(runs) == 1:
        text += " This was a `--quick` run." if quick else ""
    else:
        text += "".join(f" The run of {label} was a `--quick` run." for label in quick)
    return text


def commit_text(document: dict) -> str:
    """The commit a run measured, as the README names it."""
    git = document.get("git") or {}
    if not git.get("commit"):
        return "commit not recorded"
    return f"commit `{git['commit'][:10]}`" + (" with uncommitted changes" if git.get("dirty") else "")


def failure_reason(failure: str) -> str:
    """One line for a failed run: the time limit, or the exit status and the exception it ended with."""
    first, _, rest = failure.partition(": ")
    if not first.startswith("exit status"):
        return first
    exceptions = re.findall(r"^(?:[\w.]+\.)?\w+(?:Error|Exception|Interrupt|Exit): .+$", rest, re.MULTILINE)
    return f"{first} ({exceptions[-1].strip()})" if exceptions else first


def workload_labels(run: OverheadRun, names: list[str]) -> list[str]:
    labels = {workload["name"]: workload["label"] for workload in run.document["workloads"]}
    return [labels.get(name, name) for name in names]


def listed(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def names_text(names: list[str]) -> str:
    return listed([f"`{name}`" for name in names])


def duration_text(document: dict) -> str:
    return f"{document['duration_s'] / 60:.1f} minutes"


def limit_text(method: dict) -> str:
    return f", {method['timeout_s']:.0f} s limit per process" if method.get("timeout_s") else ""


# ---- sections ----------------------------------------------------------------------------------

def demo_section(path: Path, document: dict) -> str:
    lines = document["output"].rstrip("\n").split("\n")
    cut = next((i for i, line in enumerate(lines) if line == DEMO_CUT_BEFORE), None)
    if cut is not None:
        lines = "\n".join(lines[:cut]).rstrip("\n").split("\n") + ["..."]
    return "\n".join([
        "```",
        f"$ {document['command']}",
        *lines,
        "```",
        "",
        f"Recorded on {document['date']} from {commit_text(document)} (Python {document['python_version']}, "
        f"{document['columns']} columns) by `benchmarks/demo.py`: `{shown_path(path)}`.",
    ])


def machine_section(rows: list[OverheadRow], accuracy: Optional[dict]) -> str:
    overhead_documents = [run.document for run in runs_used(rows)]
    documents = overhead_documents + ([accuracy] if accuracy else [])
    lines = [f"Machine: {machine}." for machine in sorted({machine_line(document) for document in documents})]
    lines.append(f"Versions: {versions_line(rows, overhead_documents or documents)}.")
    return "\n".join(lines)


def compared(value: float, other: float, digits: int) -> str:
    """`value` with enough digits to show on which side of `other` it lies."""
    while digits < 6 and value != other and f"{value:.{digits}f}" == f"{other:.{digits}f}":
        digits += 1
    return f"{value:.{digits}f}"


def overhead_goal(rows: list[OverheadRow], name: str, statistic: str, limit: float) -> str:
    row = next((row for row in rows if row.name == name and not row.config["skipped"]), None)
    summary = row.run.document["summary"].get(name, {}).get("pyperformance") if row else None
    goal = f"`{name}`, {STATISTIC_TEXT[statistic]} over the pyperformance workloads <= {limit:.2f}x"
    if summary is None:
        return f"- {goal}: not measured."
    value = summary[statistic]
    where = f", {summary['max_workload']}" if statistic == "max" else ""
    verdict = "met" if value <= limit else "not met"
    return (f"- {goal}: {verdict} ({compared(value, limit, 2)}x{where}, over {summary['workloads']} workloads, "
            f"run of {row.run.document['date']}).")


def error_value(result: Optional[dict]) -> Optional[float]:
    if result is None or "failure" in result:
        return None
    return result["error_median"]


def accuracy_goal(accuracy: Optional[dict]) -> str:
    goal = "heatline more accurate (a lower error) than Scalene on every accuracy row"
    if accuracy is None:
        return f"- {goal}: not measured."
    better, worse = 0, []
    for row in accuracy["rows"]:
        ours, theirs = (error_value(row["results"].get(name)) for name in ("heatline", "scalene"))
        if ours is not None and (theirs is None or ours < theirs):
            better += 1
        elif ours is None:
            worse.append(f"{row['name']}: heatline has no figure")
        else:
            worse.append(f"{row['name']}: {compared(ours, theirs, 1)} against {compared(theirs, ours, 1)}")
    rows = len(accuracy["rows"])
    if not worse:
        return f"- {goal}: met ({better} of {rows} rows)."
    return f"- {goal}: not met: {better} of {rows} rows; not on {'; '.join(worse)}."


def goals_section(rows: list[OverheadRow], accuracy: Optional[dict]) -> str:
    lines = ["Goals, and whether the tables below meet them (computed from the same results):", ""]
    lines += [overhead_goal(rows, name, statistic, limit) for name, statistic, limit in OVERHEAD_GOALS]
    lines.append(accuracy_goal(accuracy))
    return "\n".join(lines)


def rss_growth_mb(run: OverheadRun, name: str) -> list[float]:
    """Per workload, the median over the measured rounds of the configuration's peak RSS minus plain
    Python's in the same round."""
    by_round: dict[tuple[str, int], dict[str, float]] = {}
    for record in run.document["runs"]:
        if not record["warmup"] and record["returncode"] == 0:
            by_round.setdefault((record["workload"], record["round"]), {})[record["config"]] = record["peak_rss_mb"]
    growth: dict[str, list[float]] = {}
    for (workload, _), rss in by_round.items():
        if name in rss and "python" in rss:
            growth.setdefault(workload, []).append(rss[name] - rss["python"])
    return [statistics.median(values) for values in growth.values()]


def run_note(run: OverheadRun, rows: list[OverheadRow], all_workloads: list[dict]) -> str:
    own = [row.name for row in rows if row.run is run]
    measured = [config["name"] for config in profiled_configurations(run.document) if not config["skipped"]]
    replaced = [name for name in measured if name not in own]
    names = [workload["name"] for workload in run.document["workloads"]]
    where = (f"all {len(names)} workloads" if len(names) == len(all_workloads)
             else ", ".join(workload_labels(run, names)) + " only")
    note = (f"- Overhead run of {run.document['date']} ({commit_text(run.document)}, {duration_text(run.document)}"
            f"{limit_text(run.document['method'])}): the rows of {names_text(own)}, on {where}")
    if set(measured) == set(own):
        note += f", {'each' if len(own) > 1 else 'alone'} with plain Python" + (
            " and no other profiler." if len(own) > 1 else ".")
    else:
        replaced_text = []
        for name in replaced:
            failed = {failure_reason(cell["failure"]) for cell in run.document["results"][name].values()
                      if "failure" in cell}
            replaced_text.append(f"`{name}`" + (f" ({'; '.join(sorted(failed))} here)" if failed else ""))
        note += f". Its rows of {listed(replaced_text)} are replaced by a later run's."
    return note


def notes_section(rows: list[OverheadRow], accuracy: Optional[tuple[Path, dict]]) -> str:
    runs = runs_used(rows)
    workloads = merged_workloads(runs) if runs else []
    lines = [run_note(run, rows, workloads) for run in runs]
    if accuracy is not None:
        path, document = accuracy
        lines.append(f"- Accuracy run of {document['date']} ({commit_text(document)}, {duration_text(document)}"
                     f"{limit_text(document['method'])}): {plural(document['method']['repetitions'], 'run')} per row "
                     "and profiler.")
    growth = []
    for row in rows:
        if row.name.startswith("heatline") and not row.config["skipped"]:
            values = rss_growth_mb(row.run, row.name)
            if values:
                growth.append(f"`{row.name}` {min(values):.0f} to {max(values):.0f} MB")
    if growth:
        lines.append("- Peak RSS above plain Python's in the same round (median over the rounds, lowest and highest "
                     "workload): " + ", ".join(growth) + ".")
    failures: list[str] = []
    for row in rows:
        reasons: dict[str, list[str]] = {}
        for workload, cell in row.cells.items():
            if "failure" in cell:
                reasons.setdefault(failure_reason(cell["failure"]), []).append(workload)
        for reason, names in reasons.items():
            failures.append(f"`{row.name}` on {', '.join(workload_labels(row.run, names))}: {reason}")
    if accuracy is not None:
        for row in accuracy[1]["rows"]:
            for name, result in row["results"].items():
                if "failure" in result:
                    failures.append(f"`{name}` on the accuracy row {row['name']}: {failure_reason(result['failure'])}")
    if failures:
        lines.append("- Failed: " + "; ".join(failures) + ".")
    return "\n".join(lines)


def overhead_section(rows: list[OverheadRow]) -> str:
    runs = runs_used(rows)
    labels = run_labels(runs)
    workloads = merged_workloads(runs)
    workloads_text = ", ".join(f"{w['label']} = `{' '.join(w['argv'])}`" for w in workloads)
    configs = {row.name: row.config for row in rows}
    scope_notes = []
    if "line_profiler" in configs:
        scope_notes.append("line_profiler runs only where the hot code is in the script itself (it profiles the "
                           "script's functions).")
    if "memory_profiler" in configs:
        scope_notes.append("memory_profiler (line by line, every function of the script traced) runs only on "
                           f"`alloc_heavy`, in the first {configs['memory_profiler']['max_rounds']} rounds, "
                           "without warm-up.")
    merge_note = (" Each profiler's row comes whole from the latest run that measured it (column run), and its "
                  "ratios are against plain Python in the same rounds of that run, so rows from different runs "
                  "compare." if len(runs) > 1 else "")
    sources = "; ".join(f"`{shown_path(run.path)}`, {run.document['date']}, {commit_text(run.document)}"
                        for run in runs)
    lines = [
        method_text(runs, labels) + " A cell is the median over the rounds of the profiled run's wall time divided by "
        "plain Python's in the same round. Summary columns are over the ten pyperformance workloads of Scalene's "
        "OSDI'23 table (pyperf worker mode, fixed loops, 1-4 s each); each profiler's fixed start-up cost is "
        "included. Peak RSS is that of the largest process of the run, as a ratio to plain Python's." + merge_note,
        "",
        overhead_summary(rows, labels),
        "",
        "Every workload:",
        "",
        overhead_full_table(rows, workloads, labels),
        "",
        f"Workloads: {workloads_text}.",
        *([""] + scope_notes if scope_notes else []),
        "",
        f"Source: {sources}.",
    ]
    return "\n".join(lines)


def error_cell(result: Optional[dict], digits: int = 1) -> str:
    if result is None:
        return "not run"
    if "failure" in result:
        return "failed"
    if result["error_median"] is None:
        return "not measured"
    return f"{result['error_median']:.{digits}f}"


def accuracy_section(path: Path, document: dict) -> str:
    profilers = ["heatline", "scalene"]
    rows = [[row["name"], row["unit"], *(error_cell(row["results"].get(name)) for name in profilers)]
            for row in document["rows"]]
    skipped = document["method"].get("heatline_skipped")
    return "\n".join([
        "Each program measures its own truth while it runs (CPU clock or wall clock around each measured line, "
        "exact byte counts) and is profiled by both tools: CPU rows with `--cpu-only`, memory rows in full mode. "
        "A time error is the worst measured line's distance from its true share of the measured lines, in "
        "percentage points; an MB error is the worst line's distance from its true MB, in percent; the leak row "
        "counts wrongly classified lines; a child-process row's error is the distance of the CPU seconds of a line "
        "run by Pool workers, summed over them, from what the workers measured, in percent (Scalene's seconds: its "
        "percentages of its elapsed time). Median over "
        f"{document['method']['repetitions']} runs; lower is better. Programs: `benchmarks/workloads/truth/`.",
        "",
        markdown_table(["measurement", "unit", "heatline", "Scalene"], rows, left_columns=2),
        "",
        *([f"heatline was not run: {skipped}.", ""] if skipped else []),
        f"Source: `{shown_path(path)}`, {document['date']}, {commit_text(document)}.",
    ])


# ---- before and after --------------------------------------------------------------------------

def compare_overhead(path: Path, document: dict, ref: str) -> str:
    # Each mode before, then after.
    columns = [f"heatline@{ref}", "heatline", f"heatline@{ref} --cpu-only", "heatline --cpu-only"]
    results, summary = document["results"], document["summary"]
    table = []
    for workload in document["workloads"]:
        cells = [results.get(name, {}).get(workload["name"]) for name in columns]
        table.append([workload["label"], *("" if cell is None else "failed" if "failure" in cell
                                           else f"{cell['ratio_median']:.3f}x" for cell in cells)])
    for label, suite, statistic in [("median (pyperformance)", "pyperformance", "median"),
                                    ("geometric mean (pyperformance)", "pyperformance", "geomean"),
                                    ("worst (pyperformance)", "pyperformance", "max"),
                                    ("geometric mean (own)", "own", "geomean")]:
        stats = [summary.get(name, {}).get(suite) for name in columns]
        table.append([f"**{label}**", *("-" if s is None else f"{s[statistic]:.3f}x"
                                         + (f" ({s['max_workload']})" if statistic == "max" else "") for s in stats)])
    rss = [[cell["rss_ratio_median"] for cell in results.get(name, {}).values() if "rss_ratio_median" in cell]
           for name in columns]
    table.append(["**peak RSS (worst)**", *(f"{max(ratios):.2f}x" if ratios else "-" for ratios in rss)])
    return "\n".join([
        f"heatline before (`heatline@{ref}`: commit `{document['baseline']['commit'][:10]}`) and after "
        f"({commit_text(document)}), in the same rounds of one run: {document['date']}, "
        f"{rounds_text(document['method'])}. A cell is the median over the rounds of the wall time divided by plain "
        "Python's in the same round.",
        "",
        markdown_table(["workload", *(f"`{name}`" for name in columns)], table),
        "",
        f"Source: `{shown_path(path)}`.",
    ])


def compare_accuracy(path: Path, document: dict, ref: str) -> str:
    before, after = f"heatline@{ref}", "heatline"
    table = [[row["name"], row["unit"], *(error_cell(row["results"].get(name), digits=2) for name in (before, after))]
             for row in document["rows"]]
    return "\n".join([
        f"heatline's accuracy before (`{before}`: commit `{document['baseline']['commit'][:10]}`) and after "
        f"({commit_text(document)}), interleaved in one run: {document['date']}, median error over "
        f"{plural(document['method']['repetitions'], 'run')}; lower is better.",
        "",
        markdown_table(["measurement", "unit", f"`{before}`", f"`{after}`"], table, left_columns=2),
        "",
        f"Source: `{shown_path(path)}`.",
    ])


def compare(path: Path) -> str:
    document = read_json(path)
    baseline = document.get("baseline")
    if not baseline:
        sys.exit(f"report.py: {path} has no baseline; record one with overhead.py or accuracy.py --baseline REF")
    if document.get("schema", "").startswith("heatline-bench-overhead/"):
        return compare_overhead(path, document, baseline["ref"])
    return compare_accuracy(path, document, baseline["ref"])


# ---- the README --------------------------------------------------------------------------------

def latest(kind: str) -> Optional[tuple[Path, dict]]:
    path = benchenv.latest_results(kind)
    return None if path is None else (path, read_json(path))


def generated_sections(overhead_runs: list[OverheadRun], accuracy: Optional[tuple[Path, dict]],
                       demo: Optional[tuple[Path, dict]]) -> dict[str, str]:
    """Every generated section of the README, by name; a section without results says how to record them."""
    rows = merge_overhead_runs(overhead_runs)
    accuracy_document = accuracy[1] if accuracy else None
    missing = "No results recorded: run `python3 benchmarks/{}`."
    return {
        "demo": demo_section(*demo) if demo else missing.format("demo.py"),
        "machine": machine_section(rows, accuracy_document),
        "goals": goals_section(rows, accuracy_document),
        "notes": notes_section(rows, accuracy),
        "overhead": overhead_section(rows) if rows else missing.format("overhead.py"),
        "accuracy": accuracy_section(*accuracy) if accuracy else missing.format("accuracy.py"),
    }


def readme_sections(text: str) -> dict[str, str]:
    return {match["name"]: match["body"] for match in SECTION_PATTERN.finditer(text)}


def check(readme: Path, sections: dict[str, str]) -> list[str]:
    """One line per section of `readme` that is missing, unknown or not what `sections` says."""
    present = readme_sections(readme.read_text())
    problems = [f"{readme.name}: section '{name}' differs from what benchmarks/report.py makes of "
                "benchmarks/results/; run python3 benchmarks/report.py --write"
                for name, body in sections.items() if name in present and present[name] != body + "\n"]
    problems += [f"{readme.name}: no generated section '{name}' (<!-- generated: {name} --> ... "
                 "<!-- end generated -->)" for name in sections if name not in present]
    problems += [f"{readme.name}: unknown generated section '{name}'" for name in present if name not in sections]
    return problems


def write(readme: Path, sections: dict[str, str]) -> None:
    text = readme.read_text()
    missing = [name for name in sections if name not in readme_sections(text)]
    if missing:
        sys.exit(f"report.py: {readme.name} has no generated section {', '.join(missing)}; add "
                 "`<!-- generated: NAME -->` and `<!-- end generated -->` lines where each belongs")

    def replace(match: re.Match) -> str:
        body = sections.get(match["name"])
        return match[0] if body is None else f"<!-- generated: {match['name']} -->\n{body}\n<!-- end generated -->"

    readme.write_text(SECTION_PATTERN.sub(replace, text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true",
                        help="exit 1 when the README's generated sections differ from the results")
    action.add_argument("--write", action="store_true", help="rewrite the README's generated sections in place")
    action.add_argument("--compare", type=Path, metavar="FILE",
                        help="print heatline before and after from an overhead or accuracy results file recorded "
                             "with --baseline REF")
    parser.add_argument("--readme", type=Path, default=README, help="the README to check or write (default: the "
                        "repository's)")
    parser.add_argument("--overhead", type=Path, action="append",
                        help="overhead results file; repeat it to merge runs, a later file's profilers replacing an "
                             "earlier one's (default: every full run, each profiler from the latest that measured it)")
    parser.add_argument("--accuracy", type=Path, help="accuracy results file (default: the latest)")
    parser.add_argument("--demo", type=Path, help="demo results file (default: the latest)")
    args = parser.parse_args()
    if args.compare:
        print(compare(args.compare))
        return

    if args.overhead:
        overhead_runs = [OverheadRun(path, read_json(path)) for path in args.overhead]
    else:
        overhead_runs = default_overhead_runs()
    accuracy = (args.accuracy, read_json(args.accuracy)) if args.accuracy else latest("accuracy")
    demo = (args.demo, read_json(args.demo)) if args.demo else latest("demo")
    sections = generated_sections(overhead_runs, accuracy, demo)
    if args.check:
        problems = check(args.readme, sections)
        if problems:
            sys.exit("\n".join(problems))
    elif args.write:
        write(args.readme, sections)
    else:
        print("\n\n".join(f"<!-- generated: {name} -->\n{body}\n<!-- end generated -->"
                          for name, body in sections.items()))


if __name__ == "__main__":
    main()
