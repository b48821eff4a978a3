"""Starts and ends 2,000 short threads, 50 at a time."""
import threading

THREADS = 2_000
BATCH = 50
ITERATIONS = 2_000  # about 0.1 ms of bytecode per thread

finished = []


def short_task():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: short-task
    finished.append(acc)


for _ in range(THREADS // BATCH):
    batch = [threading.Thread(target=short_task) for _ in range(BATCH)]
    for thread in batch:
        thread.start()
    for thread in batch:
        thread.join()
print("threads finished:", len(finished))
