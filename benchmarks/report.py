"""Print the README's "Performance" section (markdown) from the benchmark results.

Reads benchmarks/results/overhead-*.json (every full run, each profiler from the latest run that
measured it; the latest --quick run only when there is no full one) and the latest
benchmarks/results/accuracy-*.json, or the files given, and prints the section to stdout. Nothing
is measured here.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import benchenv

TOOL_NAMES = {"heatline": "heatline", "scalene": "Scalene", "memray": "memray", "py-spy": "py-spy",
              "pyinstrument": "pyinstrument", "yappi": "yappi", "line_profiler": "line_profiler",
              "memory_profiler": "memory_profiler", "pyperformance": "pyperformance", "pyperf": "pyperf"}
GOALS = ("Goals: heatline full: median <= 1.05x and worst <= 1.3x over the ten pyperformance workloads; "
         "`--cpu-only`: median <= 1.01x; heatline more accurate than Scalene on every accuracy row.")


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
    """Every configuration but plain Python, the baseline."""
    return [config for config in document["configurations"] if config["name"] != "python"]


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


def rounds_text(method: dict) -> str:
    warmups, rounds = method["warmup_rounds"], method["repetitions"]
    return f"{warmups} warm-up round{'s' if warmups != 1 else ''}, then {rounds} round{'s' if rounds != 1 else ''}"


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


def overhead_section(rows: list[OverheadRow]) -> list[str]:
    runs = runs_used(rows)
    labels = run_labels(runs)
    workloads = merged_workloads(runs)
    workloads_text = ", ".join(f"{w['label']} = `{' '.join(w['argv'])}`" for w in workloads)
    failures = [f"`{row.name}` on {workload}: {cell['failure'].splitlines()[0]}"
                for row in rows for workload, cell in row.cells.items() if "failure" in cell]
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
    sources = "; ".join(f"`{shown_path(run.path)}`, {run.document['date']}, "
                        f"{run.document['duration_s'] / 60:.1f} minutes" for run in runs)
    lines = [
        "### Overhead",
        "",
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
    ]
    if failures:
        lines += ["", "Failed runs: " + "; ".join(failures) + "."]
    lines += ["", f"Source: {sources}."]
    return lines


def accuracy_section(document: dict, path: Path) -> list[str]:
    profilers = ["heatline", "scalene"]
    rows = []
    for row in document["rows"]:
        cells = []
        for name in profilers:
            result = row["results"].get(name)
            if result is None:
                cells.append("not run")
            elif "failure" in result:
                cells.append("failed")
            elif result["error_median"] is None:
                cells.append("not measured")
            else:
                cells.append(f"{result['error_median']:.1f}")
        rows.append([row["name"], row["unit"], *cells])
    skipped = document["method"].get("heatline_skipped")
    return [
        "### Accuracy",
        "",
        "Each program measures its own truth while it runs (CPU clock or wall clock around each measured line, "
        "exact byte counts) and is profiled by both tools: CPU rows with `--cpu-only`, memory rows in full mode. "
        "A time error is the worst measured line's distance from its true share of the measured lines, in "
        "percentage points; an MB error is the worst line's distance from its true MB, in percent; the leak row "
        "counts wrongly classified lines. Median over "
        f"{document['method']['repetitions']} runs; lower is better. Programs: `benchmarks/workloads/truth/`.",
        "",
        markdown_table(["measurement", "unit", "heatline", "Scalene"], rows, left_columns=2),
        "",
        *([f"heatline was not run: {skipped}.", ""] if skipped else []),
        f"Source: `{shown_path(path)}`, {document['date']}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--overhead", type=Path, action="append",
                        help="overhead results file; repeat it to merge runs, a later file's profilers replacing an "
                             "earlier one's (default: every full run, each profiler from the latest that measured it)")
    parser.add_argument("--accuracy", type=Path, help="accuracy results file (default: the latest)")
    args = parser.parse_args()
    if args.overhead:
        overhead_runs = [OverheadRun(path, read_json(path)) for path in args.overhead]
    else:
        overhead_runs = default_overhead_runs()
    rows = merge_overhead_runs(overhead_runs)
    accuracy_path = args.accuracy or benchenv.latest_results("accuracy")
    if not rows and accuracy_path is None:
        sys.exit("report.py: no results in benchmarks/results/; run benchmarks/overhead.py and benchmarks/accuracy.py")
    overhead_documents = [run.document for run in runs_used(rows)]
    documents = list(overhead_documents)
    sections: list[str] = []
    if rows:
        sections += overhead_section(rows) + [""]
    if accuracy_path is not None:
        accuracy = read_json(accuracy_path)
        sections += accuracy_section(accuracy, accuracy_path) + [""]
        documents.append(accuracy)

    lines = ["## Performance", ""]
    lines += [f"Machine: {machine}." for machine in sorted({machine_line(document) for document in documents})]
    lines += [f"Versions: {versions_line(rows, overhead_documents or documents)}.", "", GOALS, "", *sections]
    lines.append("Regenerate with `python3 benchmarks/overhead.py`, `python3 benchmarks/accuracy.py` and "
                 "`python3 benchmarks/report.py`.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
