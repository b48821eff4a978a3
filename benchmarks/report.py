"""Print the README's "Performance" section (markdown) from the latest benchmark results.

Reads benchmarks/results/overhead-*.json (the latest full run; a --quick run only when there is
no other) and benchmarks/results/accuracy-*.json, or the files given, and prints the section to
stdout. Nothing is measured here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import benchenv

TOOL_NAMES = {"heatline": "heatline", "scalene": "Scalene", "memray": "memray", "py-spy": "py-spy",
              "pyinstrument": "pyinstrument", "yappi": "yappi", "line_profiler": "line_profiler",
              "memory_profiler": "memory_profiler", "pyperformance": "pyperformance", "pyperf": "pyperf"}
GOALS = ("Goals: heatline full: median <= 1.05x and worst <= 1.3x over the ten pyperformance workloads; "
         "`--cpu-only`: median <= 1.01x; heatline more accurate than Scalene on every accuracy row.")


def latest_overhead() -> Path | None:
    """The latest full overhead run, or the latest --quick run when there is no full one."""
    paths = sorted(benchenv.RESULTS_DIR.glob("overhead-*.json"), reverse=True)
    full = [path for path in paths if not json.loads(path.read_text()).get("quick")]
    return (full or paths)[0] if paths else None


def machine_line(document: dict) -> str:
    machine = document["machine"]
    return (f"{machine['cpu_model']}, {machine['cpu_count']} cores, {machine['memory_gib']} GiB, "
            f"{machine['os']}, Python {machine['python_version']}")


def versions_line(document: dict) -> str:
    tools = document["tools"]
    return ", ".join(f"{label} {tools[name]}" for name, label in TOOL_NAMES.items() if tools.get(name))


def markdown_table(headers: list[str], rows: list[list[str]], left_columns: int = 1) -> str:
    align = ["---" if i < left_columns else "---:" for i in range(len(headers))]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [headers, align, *rows])


def profiled_configurations(document: dict) -> list[dict]:
    """Every configuration but plain Python, the baseline."""
    return [config for config in document["configurations"] if config["name"] != "python"]


def overhead_summary(document: dict) -> str:
    rows = []
    for config in profiled_configurations(document):
        name = config["name"]
        if config["skipped"]:
            rows.append([f"`{name}`", "skipped: " + config["skipped"], "", "", "", ""])
            continue
        summary = document["summary"].get(name, {})
        pyperf, own = summary.get("pyperformance"), summary.get("own")
        rss = [cell["rss_ratio_median"] for cell in document["results"][name].values() if "rss_ratio_median" in cell]
        rows.append([
            f"`{name}`",
            f"{pyperf['median']:.2f}x" if pyperf else "-",
            f"{pyperf['geomean']:.2f}x" if pyperf else "-",
            f"{pyperf['max']:.2f}x ({pyperf['max_workload']})" if pyperf else "-",
            f"{own['geomean']:.2f}x" if own else "-",
            f"{max(rss):.2f}x" if rss else "-",
        ])
    headers = ["profiler", "median", "geometric mean", "worst (workload)", "own workloads (geo. mean)",
               "peak RSS (worst)"]
    return markdown_table(headers, rows)


def overhead_full_table(document: dict) -> str:
    workloads = document["workloads"]
    rows = []
    for config in profiled_configurations(document):
        if config["skipped"]:
            continue
        cells = document["results"][config["name"]]
        row = [f"`{config['name']}`"]
        for workload in workloads:
            cell = cells.get(workload["name"])
            row.append("" if cell is None else "failed" if "failure" in cell else f"{cell['ratio_median']:.2f}x")
        rows.append(row)
    return markdown_table(["profiler", *(w["label"] for w in workloads)], rows)


def overhead_section(document: dict, path: Path) -> list[str]:
    method = document["method"]
    workloads = ", ".join(f"{w['label']} = `{' '.join(w['argv'])}`" for w in document["workloads"])
    failures = [f"`{config}` on {workload}: {cell['failure'].splitlines()[0]}"
                for config, cells in document["results"].items()
                for workload, cell in cells.items() if "failure" in cell]
    configs = {config["name"]: config for config in document["configurations"]}
    scope_notes = []
    if "line_profiler" in configs:
        scope_notes.append("line_profiler runs only where the hot code is in the script itself (it profiles the "
                           "script's functions).")
    if "memory_profiler" in configs:
        scope_notes.append("memory_profiler (line by line, every function of the script traced) runs only on "
                           f"`alloc_heavy`, in the first {configs['memory_profiler']['max_rounds']} rounds, "
                           "without warm-up.")
    rounds = method["repetitions"]
    lines = [
        "### Overhead",
        "",
        f"Each workload ran as a whole process: {method['warmup_rounds']} warm-up round, then "
        f"{rounds} round{'s' if rounds != 1 else ''} in which every profiler ran once, in turn. A cell is the median over the "
        "rounds of the profiled run's wall time divided by plain Python's in the same round. Summary columns are "
        "over the ten pyperformance workloads of Scalene's OSDI'23 table (pyperf worker mode, fixed loops, 1-4 s "
        "each); each profiler's fixed start-up cost is included. Peak RSS is that of the largest process of the "
        "run, as a ratio to plain Python's." + (" This was a `--quick` run." if document["quick"] else ""),
        "",
        overhead_summary(document),
        "",
        "Every workload:",
        "",
        overhead_full_table(document),
        "",
        f"Workloads: {workloads}.",
        *([""] + scope_notes if scope_notes else []),
    ]
    if failures:
        lines += ["", "Failed runs: " + "; ".join(failures) + "."]
    lines += ["", f"Source: `benchmarks/results/{path.name}`, {document['date']}, "
                  f"{document['duration_s'] / 60:.1f} minutes."]
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
        f"Source: `benchmarks/results/{path.name}`, {document['date']}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--overhead", type=Path, help="overhead results file (default: the latest full run)")
    parser.add_argument("--accuracy", type=Path, help="accuracy results file (default: the latest)")
    args = parser.parse_args()
    overhead_path = args.overhead or latest_overhead()
    accuracy_path = args.accuracy or benchenv.latest_results("accuracy")
    if overhead_path is None and accuracy_path is None:
        sys.exit("report.py: no results in benchmarks/results/; run benchmarks/overhead.py and benchmarks/accuracy.py")
    sections: list[str] = []
    documents = []
    if overhead_path is not None:
        overhead = json.loads(overhead_path.read_text())
        sections += overhead_section(overhead, overhead_path) + [""]
        documents.append(overhead)
    if accuracy_path is not None:
        accuracy = json.loads(accuracy_path.read_text())
        sections += accuracy_section(accuracy, accuracy_path) + [""]
        documents.append(accuracy)

    lines = ["## Performance", ""]
    lines += [f"Machine: {machine}." for machine in sorted({machine_line(document) for document in documents})]
    lines += [f"Versions: {versions_line(documents[0])}.", "", GOALS, "", *sections]
    lines.append("Regenerate with `python3 benchmarks/overhead.py`, `python3 benchmarks/accuracy.py` and "
                 "`python3 benchmarks/report.py`.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
