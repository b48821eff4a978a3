"""Python/native split of allocations on every supported Python: one line allocates NumPy
buffers (native memory: NumPy's data allocator, not Python's object allocator), one builds many
small str objects (all through Python's allocator)."""
import numpy as np

MB = 1 << 20
ARRAYS = 12
ARRAY_BYTES = 8 * MB  # 8 R at the default rate: each buffer is counted in full
STRINGS = 1_000_000  # about 50 MB of str objects


def main():
    for _ in range(ARRAYS):
        array = np.ones(ARRAY_BYTES, dtype=np.uint8)  # line: numpy
        del array
    names = [str(i) for i in range(STRINGS)]  # line: strings
    return len(names)


main()
