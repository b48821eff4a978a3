"""With heatline's API in a plain python3 process: one thread exists before heatline.start(),
one starts after it; both work while the main thread waits in join().

Usage: threads_around_start.py OUT_JSON
Writes {"profile": document, "truth": {"early": cpu_s, "late": cpu_s}} (time.thread_time()).
"""
import json
import sys
import threading
import time

import heatline

ITERATIONS = 7_000_000  # about 0.3 s of bytecode in a function on a current x86-64 core

truth = {}
go = threading.Event()


def early_worker():
    go.wait()
    acc = 0
    c0 = time.thread_time()
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: early
    truth["early"] = time.thread_time() - c0


def late_worker():
    acc = 0
    c0 = time.thread_time()
    for i in range(ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: late
    truth["late"] = time.thread_time() - c0


early = threading.Thread(target=early_worker)
early.start()
heatline.start()
late = threading.Thread(target=late_worker)
late.start()
go.set()
early.join()
late.join()
document = heatline.stop()
with open(sys.argv[1], "w") as out:
    json.dump({"profile": document, "truth": truth}, out)
