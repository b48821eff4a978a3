"""Reports how it was run: name, argv, sys.path[0], __file__ and stdin, as one JSON line.

Run it with python3 and under heatline: the two outputs must be identical.
"""
import json
import sys

print(json.dumps({
    "name": __name__,
    "argv": sys.argv,
    "path0": sys.path[0],
    "file": __file__,
    "spec_is_none": __spec__ is None,
    "main_module_is_this": sys.modules["__main__"].__dict__ is globals(),
    "stdin": sys.stdin.read(),
}))
print("a line for stderr", file=sys.stderr)
