"""Process workload: an 8-worker multiprocessing Pool (default start method) over CPU-bound
tasks. On a 2-core machine the workers mostly queue for the CPUs."""

import multiprocessing


def task(seed: int) -> int:
    value = seed
    for i in range(400_000):
        value = (value * 1103515245 + i) % 2147483648
    return value


if __name__ == "__main__":
    with multiprocessing.Pool(8) as pool:
        print(sum(pool.map(task, range(48))) % 1000)
