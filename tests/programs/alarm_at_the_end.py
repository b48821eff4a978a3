"""Arms an interval timer that expires just after the program ends, as Scalene's
test/signal_test.py leaves one armed. argv[1] "handler": a Python handler that prints; "default":
SIGALRM's default action, which ends the process. Under python3 the process is gone before the
timer expires, so neither prints nor kills."""
import signal
import sys

TIMER_S = 0.01  # python3's exit takes less; writing a report takes more


def late(signum, frame):
    print("the program's handler ran after the program ended", flush=True)


if sys.argv[1] == "handler":
    signal.signal(signal.SIGALRM, late)
total = sum(range(300_000))  # line: work
signal.setitimer(signal.ITIMER_REAL, TIMER_S)
print("done", flush=True)
