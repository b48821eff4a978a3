"""A Pool left by `with`, which terminates its workers (SIGTERM) as soon as map returns: the
case that hung when workers inherited a SIGTERM handler that raised. Usage: pool_exit.py METHOD"""
import multiprocessing
import sys


def build(n):
    print("building", n)
    return len([i for i in range(n)])


if __name__ == "__main__":
    with multiprocessing.get_context(sys.argv[1]).Pool(5) as pool:
        print(sum(pool.map(build, [1_000_000] * 3)))
