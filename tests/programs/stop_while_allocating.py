"""Starts and stops API sessions many times while two threads allocate without pause: stopping
puts Python's allocators back, which must never race with a thread allocating."""
import threading

import heatline

SESSIONS = 60


def churn(stop):
    while not stop.is_set():
        items = [str(i) for i in range(200)]
        del items


stop = threading.Event()
threads = [threading.Thread(target=churn, args=(stop,)) for _ in range(2)]
for thread in threads:
    thread.start()
for _ in range(SESSIONS):
    heatline.start(cpu_sampling_interval=0.001)
    sum(i * i for i in range(2000))
    heatline.stop()
stop.set()
for thread in threads:
    thread.join()
print("sessions done")
