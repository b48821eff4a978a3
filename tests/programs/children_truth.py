"""Work done in child processes, started in one of many ways, with its truth.

Usage: children_truth.py TRUTH_JSON MODE
Each worker burns CPU on the line marked `burn` and measures it with its own thread CPU clock,
and allocates BLOCKS blocks of BLOCK_BYTES on the line marked `alloc`; the parent collects the
measurements and writes, to TRUTH_JSON, {"burn_s": total, "workers": [pid, ...], "calls": the
number of times a worker ran, "block_bytes", "blocks"}. MODE is one of:
  pool-METHOD      multiprocessing Pool (left by `with`, so terminate()) with start METHOD
  process-METHOD   multiprocessing Process objects with start METHOD, results through a Queue
  executor         concurrent.futures.ProcessPoolExecutor
  subprocess       subprocess.run([sys.executable, this file, "worker", ...])
  path-python3     subprocess.run(["python3", ...]) found on PATH
  system           os.system with sys.executable
  fork             os.fork() without exec, results through a pipe
  grandchildren    a spawned Process that forks workers of its own
"""
import concurrent.futures
import json
import multiprocessing
import os
import shlex
import subprocess
import sys
import time

WORKERS = 4
# Iterations of the burn line per worker: about 0.1-0.2 s of CPU here.
ITERATIONS = 1_500_000
BLOCK_BYTES = 1 << 20
BLOCKS = 16


def burn(iterations=ITERATIONS):
    """Returns (pid, seconds of CPU this thread spent on the burn line)."""
    start = time.thread_time()
    total = 0
    for i in range(iterations): total += i * i  # line: burn
    seconds = time.thread_time() - start
    blocks = [bytearray(BLOCK_BYTES) for _ in range(BLOCKS)]  # line: alloc
    del blocks
    return os.getpid(), seconds


def burn_to_queue(queue):
    queue.put(burn())


def fork_workers(queue):
    """In a spawned child: forks workers, which report to the queue themselves."""
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            queue.put(burn())
            queue.close()
            queue.join_thread()
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)


def worker_command(python):
    return [python, os.path.abspath(__file__), "worker"]


def from_stdout(text):
    return [tuple(json.loads(line)) for line in text.splitlines() if line.startswith("[")]


def run(mode):
    if mode.startswith("pool-"):
        with multiprocessing.get_context(mode[5:]).Pool(WORKERS) as pool:
            return pool.map(burn, [ITERATIONS] * (2 * WORKERS))
    if mode.startswith("process-") or mode == "grandchildren":
        context = multiprocessing.get_context("spawn" if mode == "grandchildren" else mode[8:])
        queue = context.Queue()
        target, expected = (fork_workers, 2) if mode == "grandchildren" else (burn_to_queue, WORKERS)
        processes = [context.Process(target=target, args=(queue,)) for _ in range(1 if mode == "grandchildren" else WORKERS)]
        for process in processes:
            process.start()
        results = [queue.get(timeout=60) for _ in range(expected)]
        for process in processes:
            process.join()
        return results
    if mode == "executor":
        with concurrent.futures.ProcessPoolExecutor(WORKERS) as executor:
            return list(executor.map(burn, [ITERATIONS] * WORKERS))
    if mode in ("subprocess", "path-python3"):
        python = sys.executable if mode == "subprocess" else "python3"
        results = []
        for _ in range(2):
            done = subprocess.run(worker_command(python), capture_output=True, text=True, check=True)
            results += from_stdout(done.stdout)
        return results
    if mode == "system":
        out = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "system-out.txt")
        status = os.system(" ".join(shlex.quote(part) for part in worker_command(sys.executable)) + " > " + shlex.quote(out))
        assert status == 0, status
        with open(out) as file:
            return from_stdout(file.read())
    if mode == "fork":
        results = []
        for _ in range(2):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                os.write(write_end, json.dumps(burn()).encode())
                os._exit(0)
            os.close(write_end)
            with os.fdopen(read_end) as pipe:
                results.append(tuple(json.loads(pipe.read())))
            os.waitpid(pid, 0)
        return results
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        print(json.dumps(burn()))
        sys.exit(0)
    results = run(sys.argv[2])
    with open(sys.argv[1], "w") as file:
        json.dump({"burn_s": sum(seconds for _, seconds in results),
                   "workers": sorted({pid for pid, _ in results}), "calls": len(results),
                   "block_bytes": BLOCK_BYTES, "blocks": BLOCKS}, file)
