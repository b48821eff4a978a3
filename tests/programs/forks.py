"""Forks without exec; the child works and exits with status 7, the parent works and waits.

Usage: forks.py os_exit|sys_exit
os_exit: the child leaves with os._exit(7). sys_exit: with sys.exit(7), through the normal
interpreter exit path. The parent prints the child's exit status as one JSON line.
"""
import json
import os
import sys

CHILD_STATUS = 7
ITERATIONS = 7_000_000  # about 0.3 s of bytecode in a function


def work():
    acc = 0
    for i in range(ITERATIONS): acc = (acc * 31 + i) % 1000003  # line: work
    return acc


mode = sys.argv[1]
pid = os.fork()
if pid == 0:
    work()
    if mode == "os_exit":
        os._exit(CHILD_STATUS)
    sys.exit(CHILD_STATUS)
work()
_, wait_status = os.waitpid(pid, 0)
print(json.dumps({"child_exit_status": os.waitstatus_to_exitcode(wait_status)}))
