"""Children that end badly, with the truth of what they did first.

Usage: children_ending.py TRUTH_JSON MODE METHOD
A child burns CPU on the line marked `burn` (measured with its thread CPU clock), writes that
truth to a file of its own, and then, by MODE:
  sigterm    waits; the parent ends it with Process.terminate() (SIGTERM)
  sigkill    waits; the parent waits 1.5 s more (the child's document is rewritten every
             second), then ends it with Process.kill() (SIGKILL)
  pool       two Pool workers wait; the parent calls Pool.terminate()
  crash      dies at once by SIGABRT (os.abort)
  hang       a child interpreter (subprocess) that sleeps for 300 s, never waited for
The parent also burns on the line marked `parent`. TRUTH_JSON gets {"burn_s", "parent_s",
"exitcodes", "children"}.
"""
import json
import multiprocessing
import os
import subprocess
import sys
import time

ITERATIONS = 1_500_000


def burn():
    start = time.thread_time()
    total = 0
    for i in range(ITERATIONS): total += i * i  # line: burn
    return time.thread_time() - start


def child(mode, truth_dir):
    seconds = burn()
    path = os.path.join(truth_dir, f"{os.getpid()}.json")
    with open(path + ".tmp", "w") as file:
        json.dump(seconds, file)
    os.rename(path + ".tmp", path)
    if mode == "crash":
        os.abort()
    time.sleep(300)


def wait_for_truths(truth_dir, count):
    deadline = time.monotonic() + 60
    while len([n for n in os.listdir(truth_dir) if n.endswith(".json")]) < count:
        assert time.monotonic() < deadline, "the children never wrote their truth"
        time.sleep(0.01)
    return {int(n[:-5]): json.load(open(os.path.join(truth_dir, n)))
            for n in os.listdir(truth_dir) if n.endswith(".json")}


def main(truth_path, mode, method):
    truth_dir = truth_path + ".children"
    os.mkdir(truth_dir)
    start = time.thread_time()
    total = 0
    for i in range(ITERATIONS): total += i * i  # line: parent
    parent_s = time.thread_time() - start
    context = multiprocessing.get_context(method)
    exitcodes = []
    if mode == "hang":
        ready = os.path.join(truth_dir, "sleeper-ready")
        sleeper = subprocess.Popen([sys.executable, "-c", "import sys, time; open(sys.argv[1], 'w').close(); time.sleep(300)",
                                    ready], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not os.path.exists(ready):
            time.sleep(0.01)
        truths = {sleeper.pid: 0.0}
    elif mode == "pool":
        pool = context.Pool(2)
        for _ in range(2):
            pool.apply_async(child, (mode, truth_dir))
        truths = wait_for_truths(truth_dir, 2)
        pool.terminate()
        pool.join()
    else:
        process = context.Process(target=child, args=(mode, truth_dir))
        process.start()
        truths = wait_for_truths(truth_dir, 1)
        if mode == "sigterm":
            process.terminate()
        elif mode == "sigkill":
            time.sleep(1.5)
            process.kill()
        process.join()
        exitcodes.append(process.exitcode)
    with open(truth_path, "w") as file:
        json.dump({"burn_s": sum(truths.values()), "parent_s": parent_s, "exitcodes": exitcodes,
                   "children": sorted(truths)}, file)


if __name__ == "__main__":
    main(*sys.argv[1:4])
