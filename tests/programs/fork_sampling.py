"""Forks CHILDREN children from one thread; each allocates the same blocks on the line marked
`alloc`, reads its own profile so far (heatline.stop() under the command), and reports that
line's estimated MB. Children that inherited one random state would sample the same blocks and
report the same estimate. Usage: fork_sampling.py TRUTH_JSON; writes {"estimates": [...]}."""
import json
import os
import sys
import time

import heatline

CHILDREN = 8
BLOCKS = 256
BLOCK_BYTES = 1 << 20


def child(write_end):
    for _ in range(BLOCKS):
        block = bytearray(BLOCK_BYTES)  # line: alloc
    del block
    time.sleep(0.2)  # the helper drains the memory events at its beats, every 10 ms
    profile = heatline.stop()
    line = next(l for l in profile["files"][os.path.abspath(__file__)]["lines"] if "# line: alloc" in l["source"])
    os.write(write_end, json.dumps(line["alloc_mb"]).encode())
    os._exit(0)


if __name__ == "__main__":
    # The pipes first, then the forks back to back: the parent allocates (almost) nothing
    # between two forks, so children that shared its random state would sample alike.
    pipes = [os.pipe() for _ in range(CHILDREN)]
    pids = []
    for read_end, write_end in pipes:
        pid = os.fork()
        if pid == 0:
            child(write_end)
        pids.append(pid)
    estimates = []
    for (read_end, write_end), pid in zip(pipes, pids):
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            estimates.append(json.loads(pipe.read()))
        os.waitpid(pid, 0)
    with open(sys.argv[1], "w") as file:
        json.dump({"estimates": estimates}, file)
