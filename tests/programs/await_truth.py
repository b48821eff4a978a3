"""Truth for await time: asyncio tasks awaiting sleeps of known length, alone and together, in
gather, TaskGroup (3.11+), asyncio.wait and wait_for, and a loop of compute and awaits.

Usage: await_truth.py TRUTH_JSON
Writes, for each marked await line, `NAME_await_s`: the wall time its tasks waited there
(time.monotonic() around the await), split evenly among the tasks waiting at the same time, as a
profiler splits it: in the phases below, tasks that wait together start together, so the split is
known from their durations. Also `burn_cpu_s`, the CPU time of the compute line, and `waited_s`,
the wall time of all the phases together.
"""
import asyncio
import json
import selectors
import sys
import threading
import time

SHORT_S, MIDDLE_S, LONG_S = 0.1, 0.2, 0.4


def split(durations):
    """Each task's share of waits that all began together: the time while k tasks waited is split
    k ways. `durations` in any order; the shares in the same order."""
    order = sorted(range(len(durations)), key=durations.__getitem__)
    shares, previous = [0.0] * len(durations), 0.0
    for rank, index in enumerate(order):
        waiting = len(durations) - rank
        step = (durations[index] - previous) / waiting
        for later in order[rank:]:
            shares[later] += step
        previous = durations[index]
    return shares


async def timed(seconds):
    began = time.monotonic()
    await asyncio.sleep(seconds)  # line: timed
    return time.monotonic() - began


async def gathered_long():
    began = time.monotonic()
    await asyncio.sleep(LONG_S)  # line: gather-long
    return time.monotonic() - began


async def gathered_short():
    began = time.monotonic()
    await asyncio.sleep(SHORT_S)  # line: gather-short
    return time.monotonic() - began


def burn(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:  # line: burn
        pass


async def beside_a_blocked_loop():
    began = time.monotonic()
    await asyncio.sleep(MIDDLE_S + SHORT_S)  # line: beside
    return time.monotonic() - began


async def blocking():
    """Blocks the loop in a selector of its own: the loop does not wait, this line does."""
    began = time.monotonic()
    with selectors.DefaultSelector() as selector:
        selector.select(MIDDLE_S)  # line: blocking
    return time.monotonic() - began


async def compute_and_wait(truth):
    for _ in range(5):
        began = time.thread_time()
        burn(0.03)
        truth["burn_cpu_s"] += time.thread_time() - began
        began = time.monotonic()
        await asyncio.sleep(0.05)  # line: pause
        truth["pause_await_s"] += time.monotonic() - began


async def main(truth):
    # Two tasks of the program's own coroutines, waiting together.
    long_s, short_s = await asyncio.gather(gathered_long(), gathered_short())  # line: gather
    truth["gather-long_await_s"], truth["gather-short_await_s"] = split([long_s, short_s])
    # Library coroutines gathered, waited for, or in a TaskGroup: the wait is where the program awaits them.
    began = time.monotonic()
    await asyncio.gather(asyncio.sleep(SHORT_S), asyncio.sleep(MIDDLE_S))  # line: gather-sleeps
    truth["gather-sleeps_await_s"] = time.monotonic() - began
    began = time.monotonic()
    await asyncio.wait_for(asyncio.sleep(MIDDLE_S), timeout=5)  # line: wait-for
    truth["wait-for_await_s"] = time.monotonic() - began
    began = time.monotonic()
    await asyncio.wait([asyncio.ensure_future(timed(SHORT_S)), asyncio.ensure_future(timed(MIDDLE_S))])  # line: wait
    truth["wait_await_s"] = 0.0  # the tasks' own lines wait, this one passes its wait down
    truth["timed_await_s"] = time.monotonic() - began
    if sys.version_info >= (3, 11):
        began = time.monotonic()
        async with asyncio.TaskGroup() as group:  # line: group
            group.create_task(timed(SHORT_S))
            group.create_task(timed(LONG_S))
        truth["timed_await_s"] += time.monotonic() - began
    # While a coroutine blocks the loop in a selector of its own, the loop waits for nothing:
    # the sleeping task awaits only what is left after the block.
    beside_s, blocked_s = await asyncio.gather(beside_a_blocked_loop(), blocking())
    truth["beside_await_s"], truth["blocking_s"] = beside_s - blocked_s, blocked_s
    task = asyncio.ensure_future(asyncio.sleep(SHORT_S))
    began = time.monotonic()
    await task  # line: await-task
    truth["await-task_await_s"] = time.monotonic() - began
    await compute_and_wait(truth)


def run(truth):
    began = time.monotonic()
    asyncio.run(main(truth))  # line: run
    truth["waited_s"] = time.monotonic() - began - truth["burn_cpu_s"] - truth["blocking_s"]


truth = {"burn_cpu_s": 0.0, "pause_await_s": 0.0, "blocking_s": 0.0}
run(truth)
# The same loop again in a thread of its own.
in_thread = {"burn_cpu_s": 0.0, "pause_await_s": 0.0, "blocking_s": 0.0}
worker = threading.Thread(target=run, args=(in_thread,))
worker.start()
worker.join()  # line: join
for key, value in in_thread.items():
    truth[key] = truth.get(key, 0.0) + value
with open(sys.argv[1], "w") as out:
    json.dump(truth, out)
