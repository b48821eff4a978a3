"""Stresses the sampler's frame walk: deep library stacks, frames pushed and popped at a high
rate (calls from C into Python, generators, exceptions), short threads, for about 2 seconds.

A walk that loaded a frame record mid-update crashed here once (3.12 publishes a C-level frame
record before setting its current frame); run it with a 1 ms interval and --profile-all.
"""
import json
import threading
import time
from fractions import Fraction

RUN_S = 2.0


class Sized:
    def __len__(self):  # called from C (len -> slot -> Python)
        return 3


def generate(n):
    for i in range(n):
        yield Fraction(i, 7)


def recurse(depth):
    if depth == 0:
        try:
            raise KeyError(depth)
        except KeyError:
            return sum(generate(20))
    return recurse(depth - 1)


def short_thread():
    json.loads(json.dumps({"k": list(range(50))}))


def worker(stop):
    while not stop.is_set():
        recurse(200)
        sorted(range(200), key=lambda value: -value)
        len(Sized())


def main():
    stop = threading.Event()
    workers = [threading.Thread(target=worker, args=(stop,)) for _ in range(2)]
    for thread in workers:
        thread.start()
    started = time.monotonic()
    while time.monotonic() - started < RUN_S:
        batch = [threading.Thread(target=short_thread) for _ in range(10)]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join()
        recurse(500)
    stop.set()
    for thread in workers:
        thread.join()
    print("stress done")


if __name__ == "__main__":
    main()
