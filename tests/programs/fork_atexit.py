"""Forks without exec; the child registers an exit handler, prints a line (left in its stdout
buffer) and leaves the program as a script does: off its end, or by sys.exit(N).

Usage: fork_atexit.py MARKER_FILE CHILD_STATUS
The child's exit handler writes MARKER_FILE. CHILD_STATUS 0: the child runs off the end of the
program; otherwise it calls sys.exit(CHILD_STATUS). The parent waits for the child and prints
its exit status as one JSON line.
"""
import atexit
import json
import os
import sys


def leave_a_mark(path):
    with open(path, "w") as out:
        out.write("the child's exit handler ran\n")


marker, child_status = sys.argv[1], int(sys.argv[2])
pid = os.fork()
if pid == 0:
    atexit.register(leave_a_mark, marker)
    print("the child's buffered line")
    if child_status:
        sys.exit(child_status)
else:
    _, wait_status = os.waitpid(pid, 0)
    print(json.dumps({"child_exit_status": os.waitstatus_to_exitcode(wait_status)}))
