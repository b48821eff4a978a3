"""Uses its own interval timers: SIGALRM from ITIMER_REAL, then SIGPROF from ITIMER_PROF.

Prints one JSON line: how many times each handler ran and how many expirations the elapsed
time (wall for SIGALRM, process CPU for SIGPROF) allows. Busy Python code runs meanwhile, so
Python runs the handlers promptly.

ITIMER_PROF counts the process's user + system time as the kernel's tick accounting has it (each
tick charged whole to the thread running then), not the precise run time of os.times() or
time.process_time(): with a profiler's thread on the CPU at some ticks the two differ, once in
about 40 runs by a tenth. The truth for SIGPROF is therefore the timer's own clock, read as it
runs: getitimer() tells how much of the current interval is left, and the clock advanced by each
fall of that value (plus one interval when it is re-armed).
"""
import json
import os
import signal
import time

INTERVAL_S = 0.01
PHASE_S = 0.6

handled = {"SIGALRM": 0, "SIGPROF": 0}


def count(signum, frame):
    handled[signal.Signals(signum).name] += 1


def busy_for(seconds, clock):
    acc = 0
    end = clock() + seconds
    while clock() < end:
        for i in range(1000): acc = (acc * 31 + i) % 1000003  # line: busy
    return acc


def run_timer(which, signum, clock):
    signal.signal(signum, count)
    signal.setitimer(which, INTERVAL_S, INTERVAL_S)
    start = clock()
    busy_for(PHASE_S, clock)
    ran = clock() - start
    signal.setitimer(which, 0)
    return ran / INTERVAL_S


def itimer_clock(which):
    """The clock that timer `which` counts, in seconds since the first call (it must be armed)."""
    state = {"left": None, "elapsed": 0.0}

    def clock():
        left = signal.getitimer(which)[0]
        if state["left"] is not None:
            fallen = state["left"] - left
            state["elapsed"] += fallen if fallen >= 0 else fallen + INTERVAL_S
        state["left"] = left
        return state["elapsed"]
    return clock


expected = {
    "SIGALRM": run_timer(signal.ITIMER_REAL, signal.SIGALRM, time.perf_counter),
    "SIGPROF": run_timer(signal.ITIMER_PROF, signal.SIGPROF, itimer_clock(signal.ITIMER_PROF)),
}
print(json.dumps({"handled": handled, "expected": expected}))
