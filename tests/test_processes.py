"""Child processes in the one profile, and signals that end a process as they would without
heatline (issue 9). Truths are measured by the workers themselves, with their thread CPU clock."""
from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import pytest

from conftest import HEATLINE, MB, MEMORY_SAMPLES_SIGMAS, PROGRAMS, cpu_s, marked_lines

DEFAULT_MEMORY_SAMPLING_RATE_BYTES = 1 << 20

CHILDREN = PROGRAMS / "children_truth.py"
ENDING = PROGRAMS / "children_ending.py"
POOL_EXIT = PROGRAMS / "pool_exit.py"
CATCHES = PROGRAMS / "catches_everything.py"
START_METHODS = ("fork", "spawn", "forkserver")
# A burn line of 0.1-0.9 s in total, split over workers: the 10%, plus the edges of
# each worker's line (a sample or so each at 5 ms).
BURN_RELATIVE_MARGIN = 0.10
BURN_ABSOLUTE_MARGIN_S = 0.03
# The Pool run that hung: each start method this many times.
POOL_EXIT_RUNS = 20


def burn_line(profile, program=CHILDREN, name="burn"):
    line = profile.marked(program, name)
    assert line is not None, f"no line {name} in the profile"
    return line


def assert_burn_matches(seconds: float, truth: float, what: str) -> None:
    margin = BURN_RELATIVE_MARGIN * truth + BURN_ABSOLUTE_MARGIN_S
    assert abs(seconds - truth) <= margin, f"{what}: profiled {seconds:.3f} s of CPU, workers measured {truth:.3f} s"


def assert_allocation_matches(line, truth) -> None:
    """n blocks of s bytes at the default rate R: each sampled with p = 1 - exp(-s/R) and
    weighing s/p; five standard deviations of the estimate's sampling error."""
    block, count = truth["block_bytes"], truth["blocks"] * truth["calls"]
    sampled = 1 - math.exp(-block / DEFAULT_MEMORY_SAMPLING_RATE_BYTES)
    margin_mb = MEMORY_SAMPLES_SIGMAS * math.sqrt(count * block ** 2 * (1 - sampled) / sampled) / MB
    assert line is not None and line["alloc_mb"] is not None, line
    assert abs(line["alloc_mb"] - count * block / MB) <= margin_mb, (line["alloc_mb"], count * block / MB, margin_mb)


MODES = [f"pool-{m}" for m in START_METHODS] + [f"process-{m}" for m in START_METHODS] + [
    "executor", "subprocess", "path-python3", "system", "fork", "grandchildren"]


@pytest.mark.parametrize("mode", MODES)
def test_work_in_child_processes_is_in_the_profile(heatline, mode):
    # python3 on PATH is this interpreter (the venv's bin first), as in an activated venv.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    run = heatline.profile(CHILDREN, mode, truth=True, env=env)
    assert run.returncode == 0, run.stderr
    profile, truth = run.profile, run.truth
    profile.assert_well_formed()
    line = burn_line(profile)
    # The workers' CPU on the line (its off-CPU share, waiting for one of two cores behind
    # four workers, is not in their clocks).
    assert_burn_matches(cpu_s(line), truth["burn_s"], mode)
    assert set(line["processes"]) == set(truth["workers"]), (line["processes"], truth["workers"])
    # Memory is profiled in the children too: the MB of the workers' allocating line add up.
    assert_allocation_matches(profile.marked(CHILDREN, "alloc"), truth)
    processes = {p["pid"]: p for p in profile["processes"]}
    first = profile["processes"][0]
    for pid in truth["workers"]:
        worker = processes[pid]
        assert worker["complete"], worker
        assert worker["cpu_s"] > 0 and worker["elapsed_s"] > 0 and worker["start_s"] >= 0, worker
        assert worker["start_method"] is not None, worker
        if mode != "grandchildren" and mode != "system":
            assert worker["ppid"] == first["pid"] or processes.get(worker["ppid"]), worker
    method = mode.split("-", 1)[1] if mode.startswith(("pool-", "process-")) else None
    if method:
        assert {processes[pid]["start_method"] for pid in truth["workers"]} == {method}
    if mode == "grandchildren":
        # Forked by a spawned child: their parent is in the profile too.
        parents = {processes[pid]["ppid"] for pid in truth["workers"]}
        assert len(parents) == 1 and processes[parents.pop()]["start_method"] == "spawn"
    assert not [w for w in profile["warnings"] if "last document" in w], profile["warnings"]
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"heatline-run-{first['pid']}-*")), \
        "the run's directory is removed"


def test_no_children_profiles_the_first_process_only(heatline):
    run = heatline.profile(CHILDREN, "pool-fork", truth=True, options=("--no-children",))
    assert run.returncode == 0, run.stderr
    assert len(run.profile["processes"]) == 1
    assert run.profile.marked(CHILDREN, "burn") is None


def test_an_api_session_profiles_its_children(heatline, tmp_path):
    """heatline.start() in a plain python3 process: stop() returns the children's work too."""
    truth_path = tmp_path / "truth.json"
    source = ("import json, multiprocessing, sys\n"
              f"sys.path.insert(0, {str(PROGRAMS)!r})\n"
              "import heatline, children_truth\n"
              "if __name__ == '__main__':\n"
              "    heatline.start()\n"
              "    with multiprocessing.get_context('spawn').Pool(2) as pool:\n"
              "        results = pool.map(children_truth.burn, [children_truth.ITERATIONS] * 4)\n"
              "    profile = heatline.stop()\n"
              "    line = [l for l in profile['files'][children_truth.__file__]['lines'] if l['line'] == LINE][0]\n"
              "    json.dump({'burn_s': sum(s for _, s in results), 'line_s': line['python_s'] + line['native_s'],\n"
              "               'workers': sorted({p for p, _ in results}), 'line_processes': line['processes'],\n"
              "               'processes': len(profile['processes'])}, open(sys.argv[1], 'w'))\n"
              ).replace("LINE", str(marked_lines(CHILDREN)["burn"]))
    program = tmp_path / "api_children.py"
    program.write_text(source)
    done = heatline.python(program, truth_path)
    assert done.returncode == 0, done.stderr
    truth = json.loads(truth_path.read_text())
    assert_burn_matches(truth["line_s"], truth["burn_s"], "API session's children")
    assert truth["line_processes"] == truth["workers"] and truth["processes"] >= 3, truth


def test_a_directory_left_by_a_dead_run_is_removed(heatline):
    """A first process that died (SIGKILL) leaves its run's directory; the next run removes it."""
    base = Path(tempfile.gettempdir())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = base / f"heatline-run-{dead.stdout.strip()}-leftover"
    stale.mkdir(mode=0o700)
    (stale / "123.json").write_text("{}")
    try:
        run = heatline.profile(PROGRAMS / "instant.py")
        assert run.returncode == 0, run.stderr
        assert not stale.exists()
    finally:
        shutil.rmtree(stale, ignore_errors=True)


def test_heatline_run_inside_a_profiled_run_profiles_its_own_program(heatline, tmp_path):
    """A child that is itself the heatline command (a test suite run under heatline, say) runs
    its program and writes its own profile; the outer run keeps its own."""
    inner_out = tmp_path / "inner.json"
    program = tmp_path / "outer.py"
    program.write_text("import subprocess, sys\n"
                       f"done = subprocess.run([{str(HEATLINE)!r}, '--json', '--outfile', {str(inner_out)!r}, "
                       f"{str(PROGRAMS / 'instant.py')!r}])\n"
                       "sys.exit(done.returncode)\n")
    run = heatline.profile(program)
    assert run.returncode == 0, run.stderr
    run.profile.assert_well_formed()
    inner = json.loads(inner_out.read_text())
    assert inner["program"] == str(PROGRAMS / "instant.py"), inner["program"]


def test_children_report_the_same_output_and_status(heatline):
    """The program's stdout, stderr and status are its own, in the parent and the children."""
    source = ("import subprocess, sys\n"
              "done = subprocess.run([sys.executable, '-c', 'import sys; print(\"out\"); "
              "print(\"err\", file=sys.stderr); sys.exit(7)'], capture_output=True, text=True)\n"
              "print(repr(done.stdout), repr(done.stderr), done.returncode)\n")
    program = heatline.new_path("status", ".py")
    program.write_text(source)
    plain = heatline.python(program)
    profiled = heatline.profile(program)
    assert profiled.returncode == plain.returncode == 0
    assert profiled.stdout == plain.stdout, (profiled.stdout, plain.stdout)
    assert profiled.stderr == plain.stderr
    assert len(profiled.profile["processes"]) == 2


# (how the parent ends the child, start method, the child's exit code, whether its last profile
# was written as it ended): SIGTERM is held until the profile is written, then kills as it would
# have; SIGKILL cannot be, but the child lived 1.5 s after its burn, so a profile written a
# second later holds the whole burn.
ENDINGS = [("sigterm", "fork", -signal.SIGTERM, True), ("sigterm", "spawn", -signal.SIGTERM, True),
           ("sigkill", "fork", -signal.SIGKILL, False)]


@pytest.mark.parametrize("mode, method, exitcode, complete", ENDINGS)
def test_a_child_ended_by_a_signal_keeps_its_profile(heatline, mode, method, exitcode, complete):
    run = heatline.profile(ENDING, mode, method, truth=True)
    assert run.returncode == 0, run.stderr
    truth = run.truth
    assert truth["exitcodes"] == [exitcode], truth
    child = {p["pid"]: p for p in run.profile["processes"]}[truth["children"][0]]
    assert child["complete"] is complete, child
    assert_burn_matches(cpu_s(burn_line(run.profile, ENDING)), truth["burn_s"], f"child ended by {mode}")


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_pool_terminate_keeps_the_workers_samples(heatline, method):
    run = heatline.profile(ENDING, "pool", method, truth=True)
    assert run.returncode == 0, run.stderr
    truth = run.truth
    processes = {p["pid"]: p for p in run.profile["processes"]}
    assert all(processes[pid]["complete"] for pid in truth["children"]), run.profile["processes"]
    assert_burn_matches(cpu_s(burn_line(run.profile, ENDING)), truth["burn_s"], "terminated pool workers")


def test_a_crashing_child_leaves_the_parent_profile_whole(heatline):
    run = heatline.profile(ENDING, "crash", "fork", truth=True)
    assert run.returncode == 0, run.stderr
    truth = run.truth
    assert truth["exitcodes"] == [-signal.SIGABRT], truth
    run.profile.assert_well_formed()
    assert_burn_matches(cpu_s(burn_line(run.profile, ENDING, "parent")), truth["parent_s"], "parent")
    assert truth["children"][0] in {p["pid"] for p in run.profile["processes"]}


def test_a_hanging_child_never_holds_up_the_report(heatline):
    started = time.monotonic()
    run = heatline.profile(ENDING, "hang", "fork", truth=True, timeout=60)
    try:
        assert run.returncode == 0, run.stderr
        assert time.monotonic() - started < 30
        run.profile.assert_well_formed()
        sleeper = run.truth["children"][0]
        listed = {p["pid"]: p for p in run.profile["processes"]}
        assert sleeper in listed and not listed[sleeper]["complete"], run.profile["processes"]
        assert_burn_matches(cpu_s(burn_line(run.profile, ENDING, "parent")), run.truth["parent_s"], "parent")
    finally:
        for pid in (run.measured or {}).get("children", []):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_forked_worker_gets_the_default_sigterm_action(heatline, tmp_path):
    """The pool hang's cause: a forked worker inherited the command's SIGTERM handler, and
    unwound (holding the pool's queue lock) instead of dying."""
    source = ("import multiprocessing, signal, time\n"
              "def wait(): time.sleep(60)\n"
              "if __name__ == '__main__':\n"
              "    p = multiprocessing.get_context('fork').Process(target=wait)\n"
              "    p.start(); time.sleep(0.3); p.terminate(); p.join()\n"
              "    print(p.exitcode)\n")
    program = tmp_path / "forked_sigterm.py"
    program.write_text(source)
    assert heatline.python(program).stdout.strip() == str(-signal.SIGTERM)
    run = heatline.profile(program)
    assert run.stdout.strip() == str(-signal.SIGTERM), run.stdout
    run = heatline.profile(program, options=("--no-children",))
    assert run.stdout.strip() == str(-signal.SIGTERM), run.stdout


@pytest.mark.parametrize("method", START_METHODS)
def test_a_pool_left_by_with_never_hangs(heatline, method):
    for _ in range(POOL_EXIT_RUNS):
        run = heatline.profile(POOL_EXIT, method, timeout=60)
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines()[-1] == "3000000", run.stdout


def run_until_ready_then_signal(command: list[str], ready: Path, signum: int) -> tuple[int, float]:
    """Starts command, sends signum once it wrote `ready`; its status and seconds after the signal."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()
            time.sleep(0.01)
        sent = time.monotonic()
        process.send_signal(signum)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("the program did not end after the signal")
        return process.returncode, time.monotonic() - sent


def test_sigterm_kills_a_program_that_catches_everything(tmp_path):
    """python3 dies by SIGTERM at once, whatever the program catches; so does heatline, with
    its profile written first."""
    ready = tmp_path / "ready"
    status, _ = run_until_ready_then_signal([sys.executable, str(CATCHES), str(ready)], ready, signal.SIGTERM)
    assert status == -signal.SIGTERM
    ready.unlink()
    outfile = tmp_path / "profile.json"
    status, after = run_until_ready_then_signal(
        [str(HEATLINE), "--json", "--outfile", str(outfile), str(CATCHES), str(ready)], ready, signal.SIGTERM)
    assert status == -signal.SIGTERM
    assert after < 4, f"it ran on for {after:.1f} s after SIGTERM (the program runs 5 s)"
    document = json.loads(outfile.read_text())
    assert document["processes"][0]["complete"]


def test_start_method_and_processes_listed_in_text_report(heatline):
    run = heatline.command(CHILDREN, heatline.new_path("truth"), "pool-spawn")
    assert run.returncode == 0, run.stderr
    assert "Processes" in run.stdout and " spawn " in run.stdout, run.stdout
    assert "peaks are per" in run.stdout, run.stdout


def test_a_python_not_profiling_reads_nothing_of_heatline():
    """No .pth file: a Python started without the run's environment imports nothing of
    heatline's, and heatline installs nothing at the top of site-packages."""
    env = {k: v for k, v in os.environ.items() if k not in ("HEATLINE_RUN", "PYTHONPATH")}
    done = subprocess.run([sys.executable, "-c", "import sys; print(sorted(m for m in sys.modules if 'heatline' in m))"],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "[]"
    import heatline

    site_packages = Path(heatline.__file__).parent.parent
    ours = [p.name for p in site_packages.iterdir() if "heatline" in p.name.lower()]
    assert sorted(ours) == sorted(["heatline", f"heatline-{heatline.__version__}.dist-info"]), ours


def test_a_childs_own_sitecustomize_and_path_are_kept(heatline, tmp_path):
    """The start-up hook hides the program's sitecustomize only to run it; the child's sys.path
    is what it would be, and its PYTHONPATH still holds the user's entries."""
    user = tmp_path / "user_site"
    user.mkdir()
    (user / "sitecustomize.py").write_text("import os\nos.environ['USER_SITECUSTOMIZE'] = 'ran'\n")
    probe = ("import os, sys\n"
             "print(os.environ.get('USER_SITECUSTOMIZE'), sys.modules['sitecustomize'].__file__,\n"
             "      any(os.path.basename(p.rstrip('/')) == '_hook' for p in sys.path),\n"
             "      os.environ['PYTHONPATH'].split(os.pathsep)[-1])\n")
    program = tmp_path / "parent.py"
    program.write_text("import subprocess, sys\nsubprocess.run([sys.executable, '-c', %r], check=True)\n" % probe)
    env = dict(os.environ, PYTHONPATH=str(user))
    plain = heatline.python(program, env=env)
    run = heatline.profile(program, env=env)
    assert run.returncode == plain.returncode == 0, run.stderr
    assert run.stdout == plain.stdout, (run.stdout, plain.stdout)
    assert plain.stdout.split()[:3] == ["ran", str(user / "sitecustomize.py"), "False"], plain.stdout
    assert len(run.profile["processes"]) == 2, run.profile["processes"]


FORK_ONE_THREAD = "import os\npid = os.fork()\nif pid == 0:\n    os._exit(3)\nprint(os.waitpid(pid, 0)[1] >> 8)\n"
FORK_TWO_THREADS = ("import os, threading, time\n"
                    "t = threading.Thread(target=time.sleep, args=(0.5,)); t.start()\n" + FORK_ONE_THREAD + "t.join()\n")


@pytest.mark.parametrize("source", [FORK_ONE_THREAD, FORK_TWO_THREADS], ids=["one_thread", "two_threads"])
def test_stderr_of_fork_is_python3s(heatline, source):
    """Python 3.12+ warns at os.fork in a process with several threads: heatline's helper
    thread must not make it warn where python3 does not (nor hide the warning where it does)."""
    program = heatline.new_path("fork", ".py")
    program.write_text(source)
    plain = heatline.python(program)
    profiled = heatline.profile(program)
    assert profiled.returncode == plain.returncode == 0
    assert profiled.stdout == plain.stdout == "3\n"
    assert ("DeprecationWarning" in profiled.stderr) == ("DeprecationWarning" in plain.stderr), profiled.stderr


def test_forked_children_sample_independently(heatline):
    """Each forked child draws its own memory sampling: with the forking thread's random state
    copied into all of them, children forked back to back sampled the same blocks (most or all
    of their estimates equal)."""
    run = heatline.profile(PROGRAMS / "fork_sampling.py", truth=True)
    assert run.returncode == 0, run.stderr
    estimates = run.truth["estimates"]
    assert len(estimates) == 8 and all(estimate > 0 for estimate in estimates), estimates
    # Independent counts of 256 blocks sampled with p = 0.63 (standard deviation 7.7 samples)
    # are equal for a pair about 1 time in 27: about one equal pair in 28 is expected, nine or
    # more about once in a million runs.
    equal_pairs = sum(a == b for a, b in itertools.combinations(estimates, 2))
    assert equal_pairs <= 8, estimates
