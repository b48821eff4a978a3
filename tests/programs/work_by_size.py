"""A little of everything, in an amount set by its argument (MB): Python time, native time,
objects that live a while (the peak grows with the argument), copies and a short sleep. Runs of
different sizes are one program for `heatline merge`."""
import sys
import time
import zlib


def work(mb):
    blocks = [bytearray(1 << 20) for _ in range(mb)]  # line: blocks
    total = sum(i * i for i in range(mb * 20_000))  # line: python
    packed = zlib.compress(bytes(mb << 20))  # line: native
    time.sleep(0.02)  # line: sleep
    return len(blocks), total, len(packed)


if __name__ == "__main__":
    work(int(sys.argv[1]))
