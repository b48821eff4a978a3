"""Truth for the Python/native memory split: each marked line allocates one kind of memory
through one route, a known number of bytes.

Usage: mem_split_truth.py TRUTH_JSON
Writes the bytes each marked line allocates (`allocated_bytes`, by marker) and what each is
for (`kind`: "python" for memory that backs Python objects, "native" for buffers an extension
asks for). The routes, on CPython 3.9 to 3.13:
  numpy:   NumPy array data: malloc (NumPy < 2.5) or PyMem_RawMalloc (NumPy 2.5), native;
  raw:     an extension's PyMem_RawMalloc (called through ctypes), native on every version;
  mem:     an extension's PyMem_Malloc, Python (the MEM domain is the object-parts allocator);
  strings: millions of small str objects (PyObject_Malloc, pymalloc's pools), Python;
  bytes, str, list: big objects whose blocks pymalloc hands to PyMem_RawMalloc from inside
           PyObject_Malloc / PyMem_Malloc, Python, and counted once.
The big buffers are 32 MB and never written to (address space, not RAM), except NumPy's ones.
"""
import ctypes
import json
import sys

import numpy as np

MB = 1 << 20
BUFFER_BYTES = 32 * MB
REPEATS = 4
STRINGS = 2_000_000  # about 0.3 s; every str has 8 characters, 57 bytes


def python_function(name, restype, *argtypes):
    """A function of the C API, called with the GIL held (ctypes.pythonapi is a PyDLL)."""
    function = getattr(ctypes.pythonapi, name)
    function.restype, function.argtypes = restype, list(argtypes)
    return function


raw_malloc = python_function("PyMem_RawMalloc", ctypes.c_void_p, ctypes.c_size_t)
raw_free = python_function("PyMem_RawFree", None, ctypes.c_void_p)
mem_malloc = python_function("PyMem_Malloc", ctypes.c_void_p, ctypes.c_size_t)
mem_free = python_function("PyMem_Free", None, ctypes.c_void_p)


def main(truth_path):
    for _ in range(REPEATS): array = np.ones(BUFFER_BYTES // 8); del array  # line: numpy
    for _ in range(REPEATS): block = raw_malloc(BUFFER_BYTES); raw_free(block)  # line: raw
    for _ in range(REPEATS): block = mem_malloc(BUFFER_BYTES); mem_free(block)  # line: mem
    # Allocated before the line, so that the line's own list never grows.
    strings = [None] * STRINGS
    for i in range(STRINGS): strings[i] = f"{i:08d}"  # line: strings
    for _ in range(REPEATS): data = bytes(BUFFER_BYTES); del data  # line: bytes
    for _ in range(REPEATS): text = "x" * BUFFER_BYTES; del text  # line: str
    for _ in range(REPEATS): items = [None] * (BUFFER_BYTES // 8); del items  # line: list
    with open(truth_path, "w") as out:
        json.dump({
            "allocated_bytes": {
                "numpy": REPEATS * BUFFER_BYTES, "raw": REPEATS * BUFFER_BYTES,
                "mem": REPEATS * BUFFER_BYTES, "bytes": REPEATS * BUFFER_BYTES,
                "str": REPEATS * BUFFER_BYTES, "list": REPEATS * BUFFER_BYTES,
                # The str objects alone: the line's loop also makes an int per row.
                "strings": sum(map(sys.getsizeof, strings))},
            "kind": {"numpy": "native", "raw": "native", "mem": "python", "strings": "python",
                     "bytes": "python", "str": "python", "list": "python"}}, out)


if __name__ == "__main__":
    main(sys.argv[1])
