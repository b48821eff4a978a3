"""Leaves a daemon thread spinning when the main thread ends."""
import threading
import time


def spin_forever():
    acc = 0
    while True: acc = (acc * 31 + 1) % 1000003  # line: spin


threading.Thread(target=spin_forever, daemon=True).start()
time.sleep(0.3)
print("main done")
