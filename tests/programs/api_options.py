"""Sessions of heatline's API, each with one option that changes what is measured.

Usage: api_options.py OUT_JSON
Writes {"profiles": {session: document}, "truth": {...}}:
  interval: cpu_sampling_interval=INTERVAL_S around pure-Python work;
  cpu_only: cpu_only=True around work that allocates;
  rate_default, rate_small: the default memory sampling rate and SMALL_RATE_BYTES around
    small_objects.make_objects() (truth["objects"]: how many objects, of how many bytes);
  only, exclude: profile_only / profile_exclude = "filter_helper" around work on a line here
    and in filter_helper.py (truth: the helper's thread CPU seconds);
  all: profile_all=True around standard-library work.
Nothing here is decorated: once anything is, sessions report only decorated functions.
"""
import json
import sys
import time
from fractions import Fraction

import heatline
from filter_helper import helper_work
from small_objects import make_objects, truth as objects_truth

INTERVAL_S = 0.02
SMALL_RATE_BYTES = 128 * 1024
ITERATIONS = 3_000_000  # about 0.15 s of bytecode in a function on a current x86-64 core
FRACTIONS = 100_000  # about 0.12 s in fractions.py (pure Python, standard library)


def own_work():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 37 + i) % 1000033  # line: own
    return acc



def main(out_path):
    profiles, truth = {}, {"objects": objects_truth()}
    heatline.start(cpu_sampling_interval=INTERVAL_S)
    own_work()
    profiles["interval"] = heatline.stop()
    heatline.start(cpu_only=True)
    make_objects()
    profiles["cpu_only"] = heatline.stop()
    heatline.start()
    make_objects()
    profiles["rate_default"] = heatline.stop()
    heatline.start(memory_sampling_rate=SMALL_RATE_BYTES)
    make_objects()
    profiles["rate_small"] = heatline.stop()
    for name, options in (("only", {"profile_only": "filter_helper"}),
                          ("exclude", {"profile_exclude": "filter_helper"})):
        heatline.start(**options)
        own_work()
        t0 = time.thread_time()
        helper_work()  # line: call-helper
        truth[f"{name}_helper_s"] = time.thread_time() - t0
        profiles[name] = heatline.stop()
    heatline.start(profile_all=True)
    sum(Fraction(i % 7, 11) for i in range(FRACTIONS))  # line: stdlib
    profiles["all"] = heatline.stop()
    with open(out_path, "w") as out:
        json.dump({"profiles": profiles, "truth": truth}, out)


if __name__ == "__main__":
    main(sys.argv[1])
