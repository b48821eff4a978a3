"""The benchmark environment shared by overhead.py and accuracy.py.

Owns the benchmark virtual environment (benchmarks/.venv-bench, every tool at a pinned version,
never a dependency of heatline itself), the copy of heatline installed into it from this
checkout, a second venv with heatline as of another commit for before/after runs
(benchmarks/.venv-bench-baseline), the description of the machine and of the commit measured,
and the one way a measured process is started.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_DIR = BENCH_DIR / ".venv-bench"
BASELINE_VENV_DIR = BENCH_DIR / ".venv-bench-baseline"
RESULTS_DIR = BENCH_DIR / "results"
# Before/after runs on some workloads only: read by report.py --compare, never by the README's tables.
COMPARE_DIR = RESULTS_DIR / "compare"
WORKLOADS_DIR = BENCH_DIR / "workloads"

# Every tool of the benchmark, pinned. Changing this list reinstalls into the existing venv.
TOOL_PINS = [
    "pyperformance==1.14.0",
    "pyperf==2.11.0",
    "scalene==2.4.0",
    "memray==1.20.0",
    "py-spy==0.4.3",
    "pyinstrument==5.1.3",
    "yappi==1.7.6",
    "line_profiler==5.1.0",
    "memory_profiler==0.61.0",
    "psutil==7.2.2",
    "numpy==2.4.6",
]
# The pyperformance benchmarks whose requirements.txt (already pinned by pyperformance) are installed.
PYPERFORMANCE_BENCHMARKS = ["async_tree", "docutils", "fannkuch", "mdp", "pprint", "raytrace", "sympy"]
# Distribution names whose versions a results file records.
RECORDED_PACKAGES = [pin.split("==")[0] for pin in TOOL_PINS] + ["heatline", "docutils", "sympy", "mpmath"]

# One quiet, single-threaded-BLAS environment for every measured process, so that the
# configurations differ only by the profiler.
MEASURED_ENV_OVERRIDES = {
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def checkout_bin(name: str, script: str) -> Path:
    """`name` in this checkout's .venv, which `make install` builds; `script` exits with one line
    saying so when it is missing."""
    path = REPO_ROOT / ".venv" / "bin" / name
    if not path.exists():
        sys.exit(f"{script}: no {path}; run `make install` first")
    return path


def venv_bin(name: str) -> Path:
    return VENV_DIR / "bin" / name


def venv_python() -> Path:
    return venv_bin("python")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pip(*args: str) -> None:
    """pip install into the benchmark venv; its chatter is shown only when it fails."""
    done = subprocess.run([str(venv_python()), "-m", "pip", "install", "-q", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pip install {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def _stamp_matches(stamp: Path, digest: str) -> bool:
    return stamp.exists() and stamp.read_text() == digest


def pyperformance_benchmarks_dir() -> Path:
    """The data-files/benchmarks folder of the pyperformance installed in the benchmark venv."""
    code = "import os, pyperformance; print(os.path.dirname(pyperformance.__file__))"
    out = subprocess.run([str(venv_python()), "-c", code], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip()) / "data-files" / "benchmarks"


def ensure_tools() -> None:
    """Create the benchmark venv on first use and (re)install the pinned tools when the pins change."""
    if not venv_python().exists():
        log(f"creating the benchmark venv {VENV_DIR} with {sys.executable}")
        venv.EnvBuilder(with_pip=True).create(VENV_DIR)
    stamp = VENV_DIR / ".tools-installed"
    digest = hashlib.sha256("\n".join(TOOL_PINS + PYPERFORMANCE_BENCHMARKS).encode()).hexdigest()
    if _stamp_matches(stamp, digest):
        return
    log("installing the pinned benchmark tools (first run: a few minutes)")
    _pip(*TOOL_PINS)
    bm_dir = pyperformance_benchmarks_dir()
    for name in PYPERFORMANCE_BENCHMARKS:
        requirements = bm_dir / f"bm_{name}" / "requirements.txt"
        if requirements.exists():
            _pip("-r", str(requirements))
    stamp.write_text(digest)


def _heatline_source_digest() -> str:
    """A hash of everything that goes into heatline's build, to rebuild only when it changed."""
    digest = hashlib.sha256()
    paths = sorted(p for p in (REPO_ROOT / "src").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    paths += [REPO_ROOT / name for name in ("pyproject.toml", "meson.build", "meson.options") if (REPO_ROOT / name).exists()]
    for path in paths:
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_heatline() -> str | None:
    """Install this checkout's heatline into the benchmark venv when its sources changed.

    Returns None when heatline is usable, else the reason it is not (the heatline
    configurations are then skipped).
    """
    stamp = VENV_DIR / ".heatline-installed"
    digest = _heatline_source_digest()
    if not _stamp_matches(stamp, digest):
        log(f"building and installing heatline from {REPO_ROOT}")
        stamp.unlink(missing_ok=True)
        # Uninstall first: the version number does not change between two builds of the checkout.
        subprocess.run([str(venv_python()), "-m", "pip", "uninstall", "-q", "-y", "heatline"], capture_output=True)
        build = subprocess.run([str(venv_python()), "-m", "pip", "install", "-q", str(REPO_ROOT)],
                               capture_output=True, text=True)
        if build.returncode != 0:
            return "heatline did not build: " + _error_line(build.stderr + build.stdout)
        stamp.write_text(digest)
    check = subprocess.run([str(venv_bin("heatline")), "--version"], capture_output=True, text=True)
    if check.returncode != 0:
        return "heatline --version failed: " + _error_line(check.stderr + check.stdout)
    return None


def resolve_commit(ref: str) -> str:
    """The full commit id of git ref `ref` in this repository; exits with one line when there is none."""
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"no commit {ref!r} in {REPO_ROOT}")
    return done.stdout.strip()


def baseline_bin(name: str) -> Path:
    return BASELINE_VENV_DIR / "bin" / name


def ensure_baseline_heatline(commit: str) -> str | None:
    """Install heatline as of `commit` into the baseline venv, unless it is there already.

    The baseline venv sees the benchmark venv's packages (the workloads' dependencies) through a
    .pth file, after its own, so a workload runs with the same packages under both builds.
    Returns None when the baseline heatline is usable, else the reason it is not.
    """
    stamp = BASELINE_VENV_DIR / ".heatline-installed"
    if not _stamp_matches(stamp, commit):
        log(f"building and installing heatline {commit[:12]} into {BASELINE_VENV_DIR}")
        if not (BASELINE_VENV_DIR / "bin" / "python").exists():
            venv.EnvBuilder(with_pip=True).create(BASELINE_VENV_DIR)
        baseline_python = BASELINE_VENV_DIR / "bin" / "python"
        (_site_packages(baseline_python) / "benchmark-venv.pth").write_text(f"{_site_packages(venv_python())}\n")
        stamp.unlink(missing_ok=True)
        subprocess.run([str(baseline_python), "-m", "pip", "uninstall", "-q", "-y", "heatline"], capture_output=True)
        with tempfile.TemporaryDirectory(prefix="heatline-baseline-") as source:
            archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=REPO_ROOT, capture_output=True)
            if archive.returncode != 0:
                return f"git archive {commit} failed: " + _error_line(archive.stderr.decode(errors="replace"))
            subprocess.run(["tar", "-x", "-C", source], input=archive.stdout, check=True)
            build = subprocess.run([str(baseline_python), "-m", "pip", "install", "-q", "--no-deps", source],
                                   capture_output=True, text=True)
        if build.returncode != 0:
            return f"heatline {commit[:12]} did not build: " + _error_line(build.stderr + build.stdout)
        stamp.write_text(commit)
    check = subprocess.run([str(baseline_bin("heatline")), "--version"], capture_output=True, text=True)
    if check.returncode != 0:
        return f"heatline {commit[:12]} --version failed: " + _error_line(check.stderr + check.stdout)
    return None


def _site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    return Path(subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip())


def git_state() -> dict[str, Any]:
    """The commit this checkout is at, and whether the files measured differ from it: anything but
    the results and the README (which the results regenerate) counts, untracked files too."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        return {"commit": None, "dirty": None, "changed": []}
    status = subprocess.run(["git", "status", "--porcelain", "--", ".", ":(exclude)benchmarks/results",
                             ":(exclude)README.md"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    changed = [line[3:] for line in status.stdout.splitlines()]
    return {"commit": head.stdout.strip(), "dirty": bool(changed), "changed": changed[:20]}


def _error_line(text: str) -> str:
    """The line of a build's output that says what went wrong: the first compiler or meson error
    (file:line: error:), else the last line that mentions an error, else the last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("WARNING:")]
    located = [line for line in lines if re.search(r"\d: (error|ERROR):", line)]
    errors = [line for line in lines if "error" in line.lower()]
    return located[0] if located else (errors or lines or ["(no output)"])[-1]


def tool_versions() -> dict[str, str | None]:
    """Versions of the recorded packages in the benchmark venv (None: not installed)."""
    code = (
        "import json, sys, importlib.metadata as m\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        "print(json.dumps({n: v(n) for n in sys.argv[1:]}))"
    )
    out = subprocess.run([str(venv_python()), "-c", code, *RECORDED_PACKAGES], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def machine_description() -> dict[str, Any]:
    """CPU model, core count, memory, OS and Python of the machine that ran the benchmark."""
    cpu_model = platform.processor() or "unknown"
    cpu_details = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "cpu family", "model", "stepping") and key not in cpu_details:
            cpu_details[key] = value.strip()
    if "model name" in cpu_details:
        cpu_model = cpu_details["model name"]
        if "cpu family" in cpu_details:
            cpu_model += f" (family {cpu_details['cpu family']}, model {cpu_details.get('model', '?')})"
    mem_total_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")
    )
    python = subprocess.run(
        [str(venv_python()), "-c", "import sys, platform; print(platform.python_version(), sys.executable)"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return {
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "memory_gib": round(mem_total_kb / 2**20, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python_version": python[0],
        "python_executable": python[1],
        "load_average_at_start": os.getloadavg(),
    }


@dataclass
class ProcessResult:
    wall_s: float
    peak_rss_mb: float
    returncode: int
    timed_out: bool
    stderr_tail: str


def run_measured(argv: list[str], cwd: Path, timeout_s: float) -> ProcessResult:
    """Run one process to its end; its wall time and the peak RSS of its largest process.

    os.wait4 reports the maximum resident set of the child and of every descendant it waited
    for, so a profiler that runs the program in a child process (py-spy, a launcher) is covered
    by the larger of the two, not their sum.
    """
    env = {**os.environ, **MEASURED_ENV_OVERRIDES}
    timed_out = threading.Event()

    def kill_process_group(pid: int) -> None:
        timed_out.set()
        os.killpg(pid, signal.SIGKILL)

    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=stderr, start_new_session=True)
        # A hung run is killed with its whole process group; wait4 then returns as usual.
        killer = threading.Timer(timeout_s, kill_process_group, (process.pid,))
        killer.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - start
        killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        tail = stderr.read().decode(errors="replace")[-2000:]
    return ProcessResult(wall_s=wall_s, peak_rss_mb=usage.ru_maxrss / 1024, returncode=process.returncode,
                         timed_out=timed_out.is_set(), stderr_tail=tail)


def write_results(kind: str, document: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    """Write a results document as <directory>/<kind>-<UTC timestamp>.json (benchmarks/results/ by
    default, whose files make the README's tables; COMPARE_DIR holds those that must not)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kind}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path


def latest_results(kind: str) -> Path | None:
    candidates = sorted(RESULTS_DIR.glob(f"{kind}-*.json"))
    return candidates[-1] if candidates else None
