"""A thread that blocks every signal (heatline's sampling signal too) before it works, and a main
thread that blocks SIGINT and SIGTERM. Usage: blocks_signals.py TRUTH_JSON"""
import json
import signal
import sys
import threading
import time

truth = {}


def work():
    signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))
    start = time.thread_time()
    total = 0
    for i in range(3_000_000): total += i  # line: blocked-burn
    truth["burn_s"] = time.thread_time() - start


thread = threading.Thread(target=work)
thread.start()
thread.join()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
with open(sys.argv[1], "w") as file:
    json.dump(truth, file)
print("ok")
