"""Threaded workload: Python threads that compete for the GIL beside threads in GIL-releasing C code.

Two threads run pure-Python arithmetic; two run hashlib and zlib on large buffers, which release
the GIL while they work. The main thread waits for all four.
"""

import argparse
import hashlib
import threading
import zlib


def python_work(iterations: int, results: list[int]) -> None:
    value = 1
    for i in range(iterations):
        value = (value * 1103515245 + i) % 2147483648
    results.append(value)


def hash_work(rounds: int, results: list[int]) -> None:
    block = bytes(range(256)) * 32768
    digest = b""
    for _ in range(rounds):
        digest = hashlib.sha256(block + digest).digest()
    results.append(digest[0])


def compress_work(rounds: int, results: list[int]) -> None:
    block = bytes(i * 7 % 251 for i in range(1 << 20))
    size = 0
    for _ in range(rounds):
        size += len(zlib.compress(block, 6))
    results.append(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python-iterations", type=int, default=3_000_000, help="loop iterations per Python thread")
    parser.add_argument("--hash-rounds", type=int, default=120, help="8 MiB SHA-256 rounds")
    parser.add_argument("--compress-rounds", type=int, default=60, help="1 MiB zlib rounds")
    args = parser.parse_args()
    results: list[int] = []
    threads = [
        threading.Thread(target=python_work, args=(args.python_iterations, results)),
        threading.Thread(target=python_work, args=(args.python_iterations, results)),
        threading.Thread(target=hash_work, args=(args.hash_rounds, results)),
        threading.Thread(target=compress_work, args=(args.compress_rounds, results)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"results {sorted(results)}")


if __name__ == "__main__":
    main()
