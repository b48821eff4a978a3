"""A small program to profile: pure-Python work, native work (zlib) and a sleep.

    heatline examples/demo.py
"""
import time
import zlib


def python_work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def native_work(rounds):
    data = bytes(range(256)) * 4096
    size = 0
    for _ in range(rounds):
        size += len(zlib.compress(data, 9))
    return size


def main():
    python_work(3_000_000)
    native_work(40)
    time.sleep(0.3)


if __name__ == "__main__":
    main()
