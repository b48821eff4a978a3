"""Children truth: Pool workers burn CPU on one line, each measuring it with its thread CPU clock.
Usage: truth_pool_burn.py TRUTH_JSON METHOD; TRUTH_JSON gets {"lines": {"burn": CPU seconds of the
line, summed over the workers}}."""
import json
import multiprocessing
import sys
import time


def burn(iterations: int) -> float:
    start = time.thread_time()
    total = 0
    for i in range(iterations): total += i * i  # truth: burn
    return time.thread_time() - start


if __name__ == "__main__":
    with multiprocessing.get_context(sys.argv[2]).Pool(8) as pool:
        seconds = pool.map(burn, [2_000_000] * 16)
    with open(sys.argv[1], "w") as file:
        json.dump({"lines": {"burn": sum(seconds)}}, file)
