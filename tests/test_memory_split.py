"""The Python/native memory split is by what the memory is for, on every Python and NumPy:
memory that backs Python objects is Python (the OBJ domain, the MEM domain, and pymalloc's big
blocks that reach the RAW domain from inside them), buffers an extension asks for through the
RAW domain or from the C library are native. mem_split_truth.py allocates each kind through
each route and says which it is; `make test-versions` runs this file on more Pythons than the
default one, since the routes differ by version (NumPy 2.5 takes array data from RAW, older
NumPy from malloc).
"""
from __future__ import annotations

import math

import pytest

from conftest import PROGRAMS, Runner
from test_memory import MB, assert_mb_match, marked, profile_run

SPLIT = PROGRAMS / "mem_split_truth.py"

BIG_LINES = ("numpy", "raw", "mem", "bytes", "str", "list")
# Each line allocates 4 buffers of 32 MB at the default R = 1 MiB: a buffer of 32 R is sampled
# with probability 1 - e^-32 and weighs its size within e^-32, so the buffers are counted
# exactly. A buffer counted twice (the nested RAW call of a big Python object) is +100%.
# What else a line allocates (the call's argument objects, ints of the loop) is a few hundred
# bytes a row, sampled with probability ~1e-4 each and then weighing ~1 MB.
BIG_RELATIVE_MARGIN = 0.02
BIG_ABSOLUTE_MARGIN_MB = 2
# The wrong kind on a line can only come from such stray samples of its small allocations:
# one weighs ~1 MB against the line's 128 MB, and 13 would be needed to cross either bound.
NATIVE_LINE_MAX_PYTHON_FRACTION = 0.1
PYTHON_LINE_MIN_PYTHON_FRACTION = 0.9
# The strings line allocates at least its str objects (and formatting temporaries and an int a
# row on top). The sampled total of A allocated bytes has a standard deviation below
# sqrt(R * A) (docs/how-it-works.md), A estimated by the measured total: 4 of them below.
STRINGS_DEVIATIONS = 4


@pytest.fixture(scope="module")
def split(installed_heatline, tmp_path_factory):
    return profile_run(Runner(tmp_path_factory.mktemp("split")), SPLIT)


@pytest.mark.parametrize("name", BIG_LINES)
def test_big_buffers_are_counted_once_on_their_lines(split, name):
    entry = marked(split.profile, SPLIT, name)
    assert_mb_match(entry["alloc_mb"], split.truth["allocated_bytes"][name], BIG_RELATIVE_MARGIN,
                    BIG_ABSOLUTE_MARGIN_MB, f"{name} line")


@pytest.mark.parametrize("name", ["numpy", "raw"])
def test_extension_buffers_are_native(split, name):
    assert split.truth["kind"][name] == "native"
    entry = marked(split.profile, SPLIT, name)
    assert entry["python_alloc_fraction"] < NATIVE_LINE_MAX_PYTHON_FRACTION, (name, entry)


@pytest.mark.parametrize("name", ["mem", "bytes", "str", "list", "strings"])
def test_python_objects_and_mem_domain_buffers_are_python(split, name):
    assert split.truth["kind"][name] == "python"
    entry = marked(split.profile, SPLIT, name)
    assert entry["python_alloc_fraction"] > PYTHON_LINE_MIN_PYTHON_FRACTION, (name, entry)


def test_small_strings_are_all_counted(split):
    entry = marked(split.profile, SPLIT, "strings")
    rate_bytes = split.profile["memory_sampling_rate_bytes"]
    deviation_mb = math.sqrt(rate_bytes * entry["alloc_mb"] * MB) / MB
    least_mb = split.truth["allocated_bytes"]["strings"] / MB - STRINGS_DEVIATIONS * deviation_mb
    assert entry["alloc_mb"] >= least_mb, (entry, least_mb)
