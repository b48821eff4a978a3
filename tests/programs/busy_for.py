"""Works for argv[1] seconds of wall-clock time (Python time, objects made and dropped, a short
sleep each round), like a service that keeps running, then exits with argv[2] (default 0).
Prints "ready" once it works. With argv[3] "child", a forked child process works beside it."""
import multiprocessing
import sys
import time


def compute():
    return sum(i * i for i in range(20_000))  # line: compute


def allocate():
    return [bytes(1000) for _ in range(200)]  # line: allocate


def main(seconds):
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        compute()
        allocate()
        time.sleep(0.005)  # line: sleep


if __name__ == "__main__":
    seconds = float(sys.argv[1])
    child = None
    if sys.argv[3:] == ["child"]:
        child = multiprocessing.get_context("fork").Process(target=main, args=(seconds,))
        child.start()
    main(seconds)
    if child is not None:
        child.join()
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
