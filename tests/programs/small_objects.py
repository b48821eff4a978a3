"""Truth for memory sample counts: one line makes COUNT Python objects of OBJECT_BYTES each,
every one freed at once, and nothing else.

Usage: small_objects.py [TRUTH_JSON]
Writes the number of objects and the bytes each asked of Python's allocator (sys.getsizeof:
the header and the data). Objects of 512 bytes stay in Python's small-object allocator (which
serves requests of up to 512 bytes), far below any sampling rate, so each is sampled alone with
probability 1 - exp(-512 / R). itertools.repeat yields no new objects (a range would make an
int per step).
"""
import json
import sys
from itertools import repeat

COUNT = 262_144
DATA_BYTES = 479  # 33 bytes of header on 64-bit CPython: 512 bytes an object
OBJECT_BYTES = sys.getsizeof(bytes(DATA_BYTES))


def make_objects():
    for _ in repeat(None, COUNT): bytes(DATA_BYTES)  # line: objects


def truth():
    return {"count": COUNT, "object_bytes": OBJECT_BYTES}


if __name__ == "__main__":
    make_objects()
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as out:
            json.dump(truth(), out)
