"""A GPU-busy phase on the line marked `gpu`, then a CPU-only phase on the line marked `cpu`,
for the stand-in NVML of tests/nvml (run: heatline gpu_phases.py TRUTH STATEFILE).

The program cannot drive a GPU, so it says what the GPU does through STATEFILE, which the
stand-in reads at every call ("PERCENT MB": utilization, and the GPU memory this process holds):
90% and 512 MB while the `gpu` line runs, 0% and 0 MB while the `cpu` line runs. Before each
phase it waits, off any marked line, longer than the engine takes to read the new state (its
utilization every 0.1 s, its memory every 0.5 s), so a phase's line is credited with its own
state only. TRUTH gets the program's thread ids (no NVML call may come from one of them).
"""
import json
import os
import sys
import threading
import time

SETTLE_S = 0.8  # more than the engine's slowest reading (memory, every 0.5 s)
PHASE_S = 1.0

truth_path, state_path = sys.argv[1], sys.argv[2]


def tell(percent, mb):
    """The GPU's state from now on, written whole (the stand-in never reads half a file)."""
    partial = state_path + ".partial"
    with open(partial, "w") as file:
        file.write(f"{percent} {mb}\n")
    os.replace(partial, state_path)


def spin(seconds):
    """Busy on the CPU for `seconds` of wall time."""
    end = time.monotonic() + seconds
    total = 0
    while time.monotonic() < end:
        total += sum(range(200))
    return total


def launch_kernels():
    end = time.monotonic() + PHASE_S
    total = 0
    while time.monotonic() < end:
        total += sum(range(200))  # line: gpu
    return total


def work_on_cpu():
    end = time.monotonic() + PHASE_S
    total = 0
    while time.monotonic() < end:
        total += sum(range(200))  # line: cpu
    return total


helper_ids = []
helper = threading.Thread(target=lambda: helper_ids.append(threading.get_native_id()) or spin(0.05))
helper.start()
helper.join()

tell(90, 512)
time.sleep(SETTLE_S)
launch_kernels()
tell(0, 0)
time.sleep(SETTLE_S)
work_on_cpu()

with open(truth_path, "w") as file:
    json.dump({"pid": os.getpid(), "thread_ids": [threading.get_native_id(), *helper_ids]}, file)
print("phases done", flush=True)
