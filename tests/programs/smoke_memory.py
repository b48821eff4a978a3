"""Memory on every supported Python, without NumPy: Python objects through Python's allocator,
and copies through the C library's memcpy as the interpreter itself calls it (so the patched
relocation slots are exercised, not only the allocator wrappers)."""

BUFFER_BYTES = 8 << 20
ROUNDS = 12


def main():
    for _ in range(ROUNDS):
        buffer = bytearray(BUFFER_BYTES)  # line: python
        frozen = bytes(buffer)  # line: copy
        del buffer, frozen


main()
