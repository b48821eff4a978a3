"""Spends known time in its own code, in a module beside it, in the standard library and in
site-packages, each reached from its own marked line.

Usage: filter_main.py TRUTH_JSON
Writes the thread CPU seconds of each marked line. The site-packages part uses rich (a
dependency of heatline, so present wherever heatline is installed); it is skipped without it.
"""
import json
import sys
import time
from fractions import Fraction

from filter_helper import helper_work

OWN_ITERATIONS = 9_000_000  # about 0.4 s of bytecode in a function on a current x86-64 core
FRACTIONS = 300_000  # about 0.4 s in fractions.py (pure Python, standard library)
MARKUP_REPEATS = 20_000  # about 0.3 s in rich/markup.py (pure Python, site-packages)


def main(truth_path):
    truth = {}
    acc = 0
    t0 = time.thread_time()
    for i in range(OWN_ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: own
    t1 = time.thread_time()
    helper_work()  # line: call-helper
    t2 = time.thread_time()
    total = sum(Fraction(i % 7, 11) for i in range(FRACTIONS))  # line: stdlib
    t3 = time.thread_time()
    truth.update(own_s=t1 - t0, helper_s=t2 - t1, stdlib_s=t3 - t2, checksum=acc + int(total))
    try:
        from rich.markup import render
    except ImportError:
        truth["site_packages_s"] = None
    else:
        t4 = time.thread_time()
        render("[bold]heat[/bold] [italic]line[/italic] " * MARKUP_REPEATS)  # line: site-packages
        truth["site_packages_s"] = time.thread_time() - t4
    with open(truth_path, "w") as out:
        json.dump(truth, out)


if __name__ == "__main__":
    main(sys.argv[1])
