"""Changes the working directory (argv[1]), optionally removes argv[2] (a directory, to make the
report's file unwritable at the end), then exits with status 3."""
import os
import shutil
import sys

total = sum(i * i for i in range(200_000))  # line: work
os.chdir(sys.argv[1])
if len(sys.argv) > 2:
    shutil.rmtree(sys.argv[2])
sys.exit(3)
