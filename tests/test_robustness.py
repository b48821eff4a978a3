"""Bad input, programs that fail, exit or are interrupted, and programs that stress the engine:
a clear message, the exit status python3 gives, the profile kept, and never a crash, a hang or
a traceback from heatline's own code."""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import HEATLINE, PROGRAMS, Profile, assert_no_heatline_traceback, assert_seconds_match, cpu_s

ECHO = PROGRAMS / "echo_run.py"
RAISES = PROGRAMS / "raises.py"
EXITS_WITH = PROGRAMS / "exits_with.py"
SPINS = PROGRAMS / "spins_until_interrupted.py"
INSTANT = PROGRAMS / "instant.py"
OWN_TIMERS = PROGRAMS / "own_timers.py"
DEEP_RECURSION = PROGRAMS / "deep_recursion.py"
MANY_THREADS = PROGRAMS / "many_threads.py"
FORKS = PROGRAMS / "forks.py"
FORK_ATEXIT = PROGRAMS / "fork_atexit.py"
LIBRARY_STRESS = PROGRAMS / "library_stress.py"
# Runs of the frame-walk stress: a crash in the walk showed up in about one run of three.
STRESS_RUNS = 4

# The program's own 10 ms timers over 0.6 s expire ~60 times; Python may merge two expirations
# that arrive before it runs the handler, rarely in a busy loop. A profiler that takes, blocks
# or resets the program's signals loses most of them.
OWN_TIMER_MIN_FRACTION = 0.8
OWN_TIMER_EXTRA_TICKS = 2
# The spinning program prints "ready" within a second of starting; then it spins this long.
READY_TIMEOUT_S = 30
SPIN_BEFORE_INTERRUPT_S = 0.5
# Python time the spin line must show, as a share of the CPU time the process had between its
# "ready" and the signal (read from /proc, so a loaded machine that gives it less is no matter):
# less than half of it would mean the last samples before the interrupt were lost.
INTERRUPTED_SPIN_MIN_FRACTION = 0.5
# 2,000 threads take about 0.5 s under python3; registering and retiring each thread with the
# engine may cost milliseconds, not tens of them.
MANY_THREADS_MAX_S = 30
# The forked child's exit status, set in forks.py.
CHILD_STATUS = 7
# A line of every text report, once per report.
REPORT_SAMPLING_LINE = "CPU samples, about one per"


def test_missing_program_is_one_line_naming_its_absolute_path_with_status_2(heatline, tmp_path):
    result = heatline.command("no_such_program.py", cwd=tmp_path)
    assert result.returncode == 2
    missing = tmp_path / "no_such_program.py"
    expected = f"heatline: can't open file '{missing}': [Errno 2] No such file or directory"
    assert expected in result.stderr.splitlines(), result.stderr
    assert result.stdout == ""
    assert_no_heatline_traceback(result.stderr)


def test_directory_without_main_is_refused_as_python_refuses_it(heatline, tmp_path):
    expected = heatline.python(tmp_path)
    result = heatline.command(tmp_path)
    assert result.returncode == expected.returncode != 0, result.stderr
    assert str(tmp_path) in result.stderr and "__main__" in result.stderr
    assert result.stdout == ""
    assert_no_heatline_traceback(result.stderr)


def test_syntax_error_is_printed_as_python_prints_it(heatline, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\ndef broken(:\n    pass\n")
    expected = heatline.python(broken)
    result = heatline.command(broken)
    assert result.returncode == expected.returncode == 1
    assert result.stderr == expected.stderr
    assert "SyntaxError" in result.stderr
    assert_no_heatline_traceback(result.stderr)


@pytest.mark.parametrize("args", [("--no-such-option", ECHO),
                                  ("--cpu-sampling-interval", "not-a-number", ECHO)],
                         ids=["unknown option", "bad option value"])
def test_bad_option_is_refused_with_status_2(heatline, args):
    result = heatline.command(*args)
    assert result.returncode == 2, result.stderr
    assert args[0] in result.stderr
    assert result.stdout == ""
    assert_no_heatline_traceback(result.stderr)


@pytest.mark.parametrize("args", [(), ("--json",), ("-m",)],
                         ids=["nothing", "options only", "bare -m"])
def test_no_program_is_refused_with_status_2(heatline, args):
    result = heatline.command(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip()
    assert_no_heatline_traceback(result.stderr)


def test_unknown_module_fails_as_python_dash_m_does(heatline):
    expected = heatline.python("-m", "no_such_module_for_heatline")
    result = heatline.command("-m", "no_such_module_for_heatline")
    assert result.returncode == expected.returncode
    assert "No module named no_such_module_for_heatline" in result.stderr
    assert_no_heatline_traceback(result.stderr)


def test_program_exception_prints_its_traceback_as_python_does_and_keeps_the_profile(heatline):
    expected = heatline.python(RAISES)
    run = heatline.profile(RAISES)
    assert run.returncode == expected.returncode == 1
    assert run.stderr == expected.stderr
    assert_no_heatline_traceback(run.stderr, program_raises=True)
    run.profile.assert_well_formed()
    assert run.profile.marked(RAISES, "work")["python_s"] > 0


@pytest.mark.parametrize("status", [0, 3, 42])
def test_sys_exit_status_is_the_programs_and_the_profile_is_kept(heatline, status):
    run = heatline.profile(EXITS_WITH, str(status))
    assert run.returncode == status, run.stderr
    assert_no_heatline_traceback(run.stderr)
    run.profile.assert_well_formed()
    assert run.profile.marked(EXITS_WITH, "work")["python_s"] > 0


def process_cpu_s(pid: int) -> float:
    """User and system CPU seconds of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def interrupted(argv: list[str], signum: int) -> tuple[int, str, float]:
    """Runs argv (the spinning program), sends it signum once it spins; (returncode, stderr,
    CPU seconds it had between its "ready" and the signal)."""
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as process:
        try:
            readable, _, _ = select.select([process.stdout], [], [], READY_TIMEOUT_S)
            assert readable and process.stdout.readline() == "ready\n"
            ready_cpu_s = process_cpu_s(process.pid)
            time.sleep(SPIN_BEFORE_INTERRUPT_S)
            spun_s = process_cpu_s(process.pid) - ready_cpu_s
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=READY_TIMEOUT_S)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, stderr, spun_s


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupting_signal_keeps_the_profile_and_ends_heatline_as_it_ends_python(heatline,
                                                                                 signum):
    # python3 dies by either signal (a shell sees 130 or 143); so must heatline, once the
    # profile is written.
    expected_status, expected_stderr, _ = interrupted([sys.executable, str(SPINS)], signum)
    assert expected_status == -signum, expected_stderr
    outfile = heatline.new_path("profile")
    status, stderr, spun_s = interrupted([str(HEATLINE), "--json", "--outfile", str(outfile), str(SPINS)],
                                         signum)
    assert status == expected_status, stderr
    assert_no_heatline_traceback(stderr, program_raises=signum == signal.SIGINT)
    assert (("KeyboardInterrupt" in stderr) == ("KeyboardInterrupt" in expected_stderr)), stderr
    profile = Profile(json.loads(outfile.read_text()))
    profile.assert_well_formed()
    spin_s = profile.marked(SPINS, "spin")["python_s"]
    assert spin_s >= INTERRUPTED_SPIN_MIN_FRACTION * spun_s, (spin_s, spun_s)


def test_program_ending_before_any_sample_gets_a_profile_with_a_message(heatline):
    # The longest interval, 10 s: the first sample falls at a random moment of the first 10 s of
    # each thread's CPU time, and the program runs a few ms of it (about 30 ms at worst, in the
    # sanitizer build on a loaded machine), so a sample is taken in fewer than 1 run in 300. (At
    # 0.5 s it was 1 in 20 there, and it happened.)
    run = heatline.profile(INSTANT, options=("--cpu-sampling-interval", "10"))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "instant\n"
    assert_no_heatline_traceback(run.stderr)
    run.profile.assert_well_formed()
    assert run.profile["samples"]["cpu"] == 0
    assert isinstance(run.profile["message"], str) and run.profile["message"]


# The timers program run as a child: started as a new interpreter, or forked and run there.
TIMERS_IN_CHILD = {
    "exec": "import subprocess, sys\nsubprocess.run([sys.executable, {path!r}], check=True)\n",
    "fork": ("import multiprocessing, runpy\n"
             "if __name__ == '__main__':\n"
             "    p = multiprocessing.get_context('fork').Process(target=runpy.run_path, args=({path!r}, None, '__main__'))\n"
             "    p.start(); p.join(); assert p.exitcode == 0\n"),
}


@pytest.mark.parametrize("where", ["here", "exec", "fork"])
def test_programs_own_interval_timers_keep_firing(heatline, where):
    program = OWN_TIMERS
    if where != "here":
        program = heatline.new_path("timers_parent", ".py")
        program.write_text(TIMERS_IN_CHILD[where].format(path=str(OWN_TIMERS)))
    # The child's file is not in the parent's folder: named, so that it is profiled.
    run = heatline.profile(program, options=("--profile-only", OWN_TIMERS.name))
    assert run.returncode == 0, run.stderr
    if where != "here":
        assert len(run.profile["processes"]) >= 2, run.profile["processes"]
    counts = json.loads(run.stdout.splitlines()[-1])
    for name, expected in counts["expected"].items():
        handled = counts["handled"][name]
        assert OWN_TIMER_MIN_FRACTION * expected <= handled <= expected + OWN_TIMER_EXTRA_TICKS, (
            name, counts)
    run.profile.assert_well_formed()
    assert cpu_s(run.profile.marked(OWN_TIMERS, "busy")) > 0


def test_ten_thousand_deep_recursion_runs_to_the_end(heatline):
    run = heatline.profile(DEEP_RECURSION)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "deepest descent done: 4\n"
    assert_no_heatline_traceback(run.stderr)
    run.profile.assert_well_formed()
    assert run.profile.marked(DEEP_RECURSION, "frame-work")["python_s"] > 0


def test_two_thousand_short_threads_start_and_end(heatline):
    started = time.monotonic()
    run = heatline.profile(MANY_THREADS)
    elapsed_s = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    assert run.stdout == "threads finished: 2000\n"
    assert_no_heatline_traceback(run.stderr)
    assert elapsed_s <= MANY_THREADS_MAX_S
    run.profile.assert_well_formed()


def test_fast_sampling_of_deep_library_stacks_never_crashes(heatline):
    for _ in range(STRESS_RUNS):
        run = heatline.profile(LIBRARY_STRESS, options=("--profile-all", "--cpu-sampling-interval", "0.001"),
                               timeout=60)
        assert run.returncode == 0, (run.returncode, run.stderr)
        assert run.stdout == "stress done\n"
        run.profile.assert_well_formed()
        files = {os.path.realpath(path): entry for path, entry in run.profile["files"].items()}
        assert files[str(LIBRARY_STRESS)]["python_s"] > 0
        assert any("fractions.py" in path for path in files), "standard library code is profiled"


@pytest.mark.parametrize("mode", ["os_exit", "sys_exit"])
def test_fork_without_exec_child_and_parent_exit_normally(heatline, mode):
    run = heatline.profile(FORKS, mode, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [json.dumps({"child_exit_status": CHILD_STATUS})]
    assert_no_heatline_traceback(run.stderr)
    run.profile.assert_well_formed()
    assert run.profile.marked(FORKS, "work")["python_s"] > 0


@pytest.mark.parametrize("child_status", [0, 3], ids=["runs off the end", "sys.exit(3)"])
def test_forked_child_leaving_the_program_runs_its_exit_handlers_as_under_python(heatline,
                                                                                 tmp_path,
                                                                                 child_status):
    # Block-buffered stdout, as python3 has it on a pipe: the child's line shows only if the
    # child's buffers are flushed at its exit.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    python_marker, heatline_marker = tmp_path / "python-mark", tmp_path / "heatline-mark"
    expected = heatline.python(FORK_ATEXIT, python_marker, child_status, env=env)
    assert expected.returncode == 0, expected.stderr
    assert python_marker.exists(), "under python3 the child's exit handler runs"
    # The text report goes to stdout after the program's output: a child that reported would
    # add a second one.
    result = heatline.command(FORK_ATEXIT, heatline_marker, child_status, env=env)
    assert result.returncode == expected.returncode, result.stderr
    assert heatline_marker.exists(), "the child's exit handler did not run under heatline"
    assert heatline_marker.read_text() == python_marker.read_text()
    assert result.stdout.startswith(expected.stdout), result.stdout
    assert json.loads(expected.stdout.splitlines()[-1]) == {"child_exit_status": child_status}
    report = result.stdout[len(expected.stdout):]
    assert report.count(REPORT_SAMPLING_LINE) == 1, report
    assert_no_heatline_traceback(result.stderr)


@pytest.mark.parametrize("status", [0, 3])
def test_os_exit_status_is_the_programs_and_the_profile_is_kept(heatline, status):
    run = heatline.profile(EXITS_WITH, str(status), "os_exit")
    assert run.returncode == status, run.stderr
    assert_no_heatline_traceback(run.stderr)
    run.profile.assert_well_formed()
    assert run.profile.marked(EXITS_WITH, "work")["python_s"] > 0


# ---- mistakes on the command line and in the API ----------------------------------------------

def assert_one_line_error(result, mentioning: str) -> None:
    """Refused: a non-zero status, nothing on stdout, one stderr line naming the problem."""
    assert result.returncode != 0, result.stderr
    assert result.stdout == ""
    mentions = [line for line in result.stderr.splitlines() if mentioning in line]
    assert len(mentions) == 1, result.stderr
    assert_no_heatline_traceback(result.stderr)


def test_outfile_that_is_a_directory_is_refused_before_the_program_runs(heatline, tmp_path):
    result = heatline.command("--outfile", tmp_path, ECHO)  # ECHO prints as soon as it runs
    assert_one_line_error(result, str(tmp_path))
    assert "directory" in result.stderr
    assert result.returncode == 2


@pytest.mark.parametrize("value", ["0", "0.0009", "10.5", "-1", "nan", "inf"])
def test_cpu_sampling_interval_out_of_range_is_one_line_error(heatline, value):
    result = heatline.command("--cpu-sampling-interval", value, ECHO)
    assert_one_line_error(result, "--cpu-sampling-interval")
    assert result.returncode == 2


def test_double_dash_ends_heatlines_options(heatline):
    # After `--` a name that looks like an option is the program's (here a file named --json).
    expected = heatline.python(ECHO, "--json", cwd=PROGRAMS)
    outfile = heatline.new_path("profile")
    result = heatline.command("--json", "--outfile", outfile, "--", ECHO, "--json",
                              cwd=PROGRAMS)
    assert result.returncode == expected.returncode == 0, result.stderr
    assert result.stdout == expected.stdout
    assert json.loads(outfile.read_text())["argv"] == [str(ECHO), "--json"]


def test_dash_m_joined_to_its_module_runs_it_as_python_does(heatline, tmp_path):
    shutil.copy(ECHO, tmp_path / "echo_mod.py")
    expected = heatline.python("-mecho_mod", "x", cwd=tmp_path)
    outfile = heatline.new_path("profile")
    result = heatline.command("--json", "--outfile", outfile, "-mecho_mod", "x", cwd=tmp_path)
    assert result.returncode == expected.returncode == 0, result.stderr
    assert result.stdout == expected.stdout
    assert json.loads(outfile.read_text())["program"] == "-m echo_mod"


def test_stopping_while_threads_allocate_never_crashes(heatline):
    """heatline.stop() puts Python's allocators back while other threads allocate: it crashed
    (SIGSEGV: 4 runs of 5 with 150 sessions, 3 of 6 with these 60) when the engine let them run
    meanwhile."""
    done = heatline.python(PROGRAMS / "stop_while_allocating.py")
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout == "sessions done\n"


def test_threads_that_block_signals_keep_working(heatline):
    """A thread that blocks every signal, heatline's too, runs to its end; its time is still
    counted (its clock) and lands on its line."""
    program = PROGRAMS / "blocks_signals.py"
    run = heatline.profile(program, truth=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "ok\n"
    run.profile.assert_well_formed()
    burn = run.profile.marked(program, "blocked-burn")
    assert burn is not None
    assert_seconds_match(cpu_s(burn), run.truth["burn_s"], "blocked thread's line")
