"""A module of the program beside mem_scope.py: its marked line allocates one NumPy buffer."""
import numpy as np


def allocate_in_helper(size):
    return np.empty(size, dtype=np.uint8)  # line: helper-alloc
