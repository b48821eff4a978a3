"""Allocation-heavy pure-Python workload: many short-lived small objects and some large buffers.

Stresses what a memory profiler pays per allocation (small objects through pymalloc) and per
sampled byte (buffers of a few MB, allocated and freed again).
"""

import argparse


def small_objects(count: int) -> int:
    records = [{"id": i, "name": f"item-{i}", "tags": (i % 7, i % 11)} for i in range(count)]
    index = {record["name"]: record for record in records}
    words = [str(i) * 3 for i in range(count)]
    return len(index) + len("".join(words))


def growing_containers(count: int) -> int:
    buckets: dict[int, list[tuple[int, int]]] = {}
    for i in range(count):
        buckets.setdefault(i % 1000, []).append((i, i * i))
    return sum(len(bucket) for bucket in buckets.values())


def large_buffers(count: int, megabytes: int) -> int:
    total = 0
    for i in range(count):
        buffer = bytearray(megabytes << 20)
        buffer[i % len(buffer)] = 1
        total += len(bytes(buffer[: 1 << 16]))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="repetitions of the whole workload")
    parser.add_argument("--objects", type=int, default=150_000, help="small objects per round")
    parser.add_argument("--buffers", type=int, default=60, help="large buffers per round")
    parser.add_argument("--buffer-mb", type=int, default=8, help="size of each large buffer in MiB")
    args = parser.parse_args()
    checksum = 0
    for _ in range(args.rounds):
        checksum += small_objects(args.objects)
        checksum += growing_containers(args.objects)
        checksum += large_buffers(args.buffers, args.buffer_mb)
    print(f"checksum {checksum}")


if __name__ == "__main__":
    main()
