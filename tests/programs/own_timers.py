"""Uses its own interval timers: SIGALRM from ITIMER_REAL, then SIGPROF from ITIMER_PROF.

Prints one JSON line: how many times each handler ran and how many expirations the elapsed
time (wall for SIGALRM, process CPU for SIGPROF) allows. Busy Python code runs meanwhile, so
Python runs the handlers promptly.

ITIMER_PROF counts the process's user + system time as the kernel's tick accounting has it (each
tick charged whole to the thread running then), not the precise run time of
time.process_time(): with a profiler's thread waking at tick boundaries the two differ by about
a tenth. The truth for SIGPROF is therefore that same accounting, os.times(), to its 10 ms.
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
    start = clock()
    signal.setitimer(which, INTERVAL_S, INTERVAL_S)
    busy_for(PHASE_S, clock)
    signal.setitimer(which, 0)
    return (clock() - start) / INTERVAL_S


expected = {
    "SIGALRM": run_timer(signal.ITIMER_REAL, signal.SIGALRM, time.perf_counter),
    "SIGPROF": run_timer(signal.ITIMER_PROF, signal.SIGPROF, lambda: sum(os.times()[:2])),
}
print(json.dumps({"handled": handled, "expected": expected}))
