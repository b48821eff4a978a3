"""Truth for allocations and copies in a C library that the program loads itself, after the
profiler has started (tests/test_memory.py compiles it; NATIVE_SOURCE there).

Usage: mem_native_calls.py TRUTH_JSON LIBRARY
  realloc: grows one buffer from 1 MB to 64 MB by doubling it with realloc;
  memcpy: memcpy of a 16 MB buffer into another, 4 times;
  native-thread: a thread the library starts itself (no Python frames) mallocs and frees 4 MB
  32 times while the calling line waits in pthread_join.
Writes the bytes each marked line allocates and copies, as the C code does them.
"""
import ctypes
import json
import sys

MB = 1 << 20
GROW_FIRST_BYTES = 1 * MB
GROW_LAST_BYTES = 64 * MB
COPY_BYTES = 16 * MB
COPY_TIMES = 4
THREAD_BYTES = 4 * MB
THREAD_TIMES = 32


def realloc_sizes(first, last):
    """The sizes grow_by_doubling asks for: malloc(first), then realloc to each double."""
    sizes = [first]
    while sizes[-1] < last:
        sizes.append(sizes[-1] * 2)
    return sizes


def main(truth_path, library_path):
    library = ctypes.CDLL(library_path)
    for function in (library.grow_by_doubling, library.copy_buffers,
                     library.churn_in_native_thread):
        function.restype = ctypes.c_int
    library.grow_by_doubling.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    library.copy_buffers.argtypes = [ctypes.c_size_t, ctypes.c_int]
    library.churn_in_native_thread.argtypes = [ctypes.c_size_t, ctypes.c_int]
    status = library.grow_by_doubling(GROW_FIRST_BYTES, GROW_LAST_BYTES)  # line: realloc
    status |= library.copy_buffers(COPY_BYTES, COPY_TIMES)  # line: memcpy
    status |= library.churn_in_native_thread(THREAD_BYTES, THREAD_TIMES)  # line: native-thread
    with open(truth_path, "w") as out:
        json.dump({"status": status,
                   "realloc_allocated_bytes": sum(realloc_sizes(GROW_FIRST_BYTES,
                                                                GROW_LAST_BYTES)),
                   "memcpy_allocated_bytes": 2 * COPY_BYTES,
                   "memcpy_copied_bytes": COPY_TIMES * COPY_BYTES,
                   "native_thread_allocated_bytes": THREAD_TIMES * THREAD_BYTES}, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
