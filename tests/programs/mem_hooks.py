"""Where heatline's memory hooks are and are not, across sessions started and stopped from a plain
python process. Usage: mem_hooks.py OUT_JSON. Writes, for each step, the number of relocation
slots pointing to heatline's hooks and what tracemalloc saw."""
import json
import sys
import tracemalloc

import heatline
from heatline import _core


def main(out_path):
    steps = {"before": _core.hooked_slots()}
    cycles = []
    for _ in range(20):  # start and stop repeatedly: hooks go in and come out every time
        heatline.start()
        during = _core.hooked_slots()
        block = bytearray(1 << 20)
        heatline.stop()
        cycles.append((during, _core.hooked_slots()))
        del block
    steps["cycles"] = cycles

    # tracemalloc wraps Python's allocator on top of heatline's, then heatline stops: both
    # must keep working, and tracemalloc must still see what is allocated.
    heatline.start(memory_sampling_rate=65536)
    tracemalloc.start()
    kept = [bytes(1000) for _ in range(4000)]
    document = heatline.stop()
    traced_before, _ = tracemalloc.get_traced_memory()
    more = [bytes(1000) for _ in range(1000)]
    traced_after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    steps["tracemalloc_grew_mb"] = (traced_after - traced_before) / (1 << 20)
    steps["alloc_mb_under_tracemalloc"] = document["totals"]["alloc_mb"]
    # A session after that (heatline's wrapper is still in the chain under tracemalloc's, which
    # is gone again now) measures as usual.
    heatline.start(memory_sampling_rate=65536)
    again = [bytes(1000) for _ in range(16000)]  # line: again
    document = heatline.stop()
    steps["again_profile"] = document
    steps["after"] = _core.hooked_slots()
    del kept, more, again
    with open(out_path, "w") as out:
        json.dump(steps, out)


if __name__ == "__main__":
    main(sys.argv[1])
