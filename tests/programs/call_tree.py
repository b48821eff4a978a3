"""A known call tree, for the flame graph:

    <module> -> main -> heavy -> shared    most of the time; holds a 64 MB block at the peak
                     -> light -> shared    little time; allocates 384 MB, 8 MB at a time, each
                                           freed at once (so it holds nothing at the peak)

So heavy is the wider frame by time and at the peak, light the wider one by memory allocated
(shared's loop allocates too: about 100 MB of int objects per million iterations, made and freed),
and shared is called from both.
"""
HELD_MB = 64
CHUNK_MB = 8
CHUNKS = 48


def shared(iterations):
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def heavy():
    block = bytearray(HELD_MB << 20)
    total = shared(1_500_000)
    return total + len(block)


def light():
    size = 0
    for _ in range(CHUNKS):
        size += len(bytearray(CHUNK_MB << 20))
    return size + shared(300_000)


def main():
    heavy()
    light()


if __name__ == "__main__":
    main()
