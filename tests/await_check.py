"""The await time of tests/programs/await_truth.py against the truth it measured itself, used by
tests/test_attribution.py and, on every Python of the smoke run, by tests/smoke.sh (the frames of a
suspended coroutine and asyncio's tasks differ by version).

Usage: await_check.py PROFILE_JSON TRUTH_JSON; prints a summary, or fails with the line at fault.
"""
import json
import os
import re
import sys

PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs", "await_truth.py")
# The lines whose tasks waited, each against its tasks' shares of the time waited.
AWAIT_LINES = ("timed", "gather-long", "gather-short", "gather-sleeps", "wait-for", "await-task", "pause", "beside")
# The lines of tasks that waited for other tasks (a gather of the program's coroutines,
# asyncio.wait, a TaskGroup): the wait is the awaited tasks', none of it theirs.
PASSING_LINES = ("gather", "wait", "group")
# The margins of a line's seconds in tests/conftest.py: 20% + 0.03 s. The loop's wait is timed
# exactly around each select; the split among tasks follows the tasks waiting at each look (one
# per millisecond of waiting at least), and in this program tasks that wait together start
# together, so a wrong split (a share for a task that passes its wait down, or none for one that
# waits) is off by 50% or more.
RELATIVE_MARGIN, ABSOLUTE_MARGIN_S = 0.2, 0.03
# What is left to the line that runs the event loop, and to lines that pass their wait down:
# the loop's own work between waits, and waits too short to have a look of their own.
LOOP_LINE_MAX_S = 0.1


def marks():
    found = {}
    for number, text in enumerate(open(PROGRAM).read().splitlines(), start=1):
        match = re.search(r"#\s*line:\s*([\w-]+)", text)
        if match:
            found[match.group(1)] = number
    return found


def check(doc, truth):
    lines = {line["line"]: line for path, entry in doc["files"].items()
             if os.path.realpath(path) == os.path.realpath(PROGRAM) for line in entry["lines"]}
    numbers = marks()
    zero = {"python_s": 0.0, "native_s": 0.0, "system_s": 0.0, "await_s": 0.0}
    line = lambda name: lines.get(numbers[name], zero)  # noqa: E731
    for name in AWAIT_LINES:
        found, expected = line(name)["await_s"], truth[f"{name}_await_s"]
        assert abs(found - expected) <= RELATIVE_MARGIN * expected + ABSOLUTE_MARGIN_S, (
            f"{name} line: await {found:.3f} s, its tasks waited {expected:.3f} s")
        assert line(name)["system_s"] >= found * (1 - 1e-9), (name, line(name))
    for name in PASSING_LINES:
        assert line(name)["await_s"] <= LOOP_LINE_MAX_S, (
            f"{name} line passes its wait down, yet awaited {line(name)['await_s']:.3f} s")
    # A selector a coroutine calls itself blocks the loop: its line's wait (system time in the
    # main thread, idle in the loop's own thread, by the idle rule), no await.
    blocking = line("blocking")
    blocked_s = blocking["system_s"] + blocking.get("idle_s", 0.0)
    assert blocking["await_s"] <= LOOP_LINE_MAX_S, f"the blocking line awaited {blocking['await_s']:.3f} s"
    assert abs(blocked_s - truth["blocking_s"]) <= RELATIVE_MARGIN * truth["blocking_s"] + ABSOLUTE_MARGIN_S, (
        f"blocking line: waited {blocked_s:.3f} s, it blocked {truth['blocking_s']:.3f} s")
    run = line("run")
    run_s = run["python_s"] + run["native_s"] + run["system_s"]
    assert run_s <= LOOP_LINE_MAX_S, f"the asyncio.run line kept {run_s:.3f} s"
    burn = line("burn")
    burn_s = burn["python_s"] + burn["native_s"] + burn["system_s"]
    assert abs(burn_s - truth["burn_cpu_s"]) <= RELATIVE_MARGIN * truth["burn_cpu_s"] + ABSOLUTE_MARGIN_S, (
        f"compute line: {burn_s:.3f} s, measured {truth['burn_cpu_s']:.3f} s")
    total = doc["totals"]["await_s"]
    assert abs(total - truth["waited_s"]) <= RELATIVE_MARGIN * truth["waited_s"] + ABSOLUTE_MARGIN_S, (
        f"await in all: {total:.3f} s, the loops waited {truth['waited_s']:.3f} s")
    return (f"await {total:.2f}/{truth['waited_s']:.2f} s, gather long/short "
            f"{line('gather-long')['await_s']:.2f}/{line('gather-short')['await_s']:.2f} s")


if __name__ == "__main__":
    print(check(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))))
