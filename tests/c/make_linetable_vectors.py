"""Writes linetable_vectors.h: line tables of real code objects from CPython 3.9-3.13 with the
line CPython itself gives for each instruction, for test_frames_linetable.c.

Run it with each interpreter (pyenv) once; it appends that version's vectors:
    for v in 3.9 3.10 3.11 3.12 3.13; do $(pyenv prefix $v...)/bin/python make_linetable_vectors.py; done
The output is committed; regenerating is only needed when a new Python version is added.
"""
import dis
import sys

SOURCE = '''
def sample(a, b):
    total = 0
    for i in range(a):
        if i % 3 == 0:
            total += i * b
        else:
            total -= 1


        try:
            total //= (i - 5)
        except ZeroDivisionError:
            total = -total
    values = [x * 2
              for x in range(b)]
    return (total +
            sum(values))
''' + "\n" * 300 + '''
def far_away(x):
    return x + 1
'''


def lines_per_unit(code):
    """CPython's own answer: the line of each 2-byte code unit (None where it has none)."""
    units = len(code.co_code) // 2
    lines = [None] * units
    if hasattr(code, "co_lines"):
        for start, end, line in code.co_lines():
            for unit in range(start // 2, min(end // 2, units)):
                lines[unit] = line
    else:
        starts = dict(dis.findlinestarts(code))
        current = None
        for unit in range(units):
            current = starts.get(unit * 2, current)
            lines[unit] = current
    previous = code.co_firstlineno
    for unit, line in enumerate(lines):
        if line is None:
            lines[unit] = previous
        else:
            previous = line
    return lines


def table_of(code):
    if sys.version_info >= (3, 11):
        return 3, code.co_linetable
    if sys.version_info >= (3, 10):
        return 2, code.co_linetable
    return 1, code.co_lnotab


def c_bytes(data):
    return ", ".join(str(b) for b in data) or "0"


def main():
    namespace = {}
    exec(compile(SOURCE, "vectors", "exec"), namespace)
    tag = f"{sys.version_info[0]}{sys.version_info[1]}"
    out = []
    for name in ("sample", "far_away"):
        code = namespace[name].__code__
        fmt, table = table_of(code)
        lines = lines_per_unit(code)
        ident = f"v{tag}_{name}"
        out.append("#ifdef LINETABLE_DATA")
        out.append(f"static const uint8_t {ident}_table[] = {{{c_bytes(table)}}};")
        out.append(f"static const int32_t {ident}_lines[] = {{{', '.join(map(str, lines))}}};")
        out.append("#else")
        out.append(f"VECTOR({ident}, {fmt}, {code.co_firstlineno}, {len(table)}, {len(lines)})")
        out.append("#endif")
    with open("linetable_vectors.h", "a") as header:
        header.write(f"/* CPython {sys.version.split()[0]} */\n" + "\n".join(out) + "\n")


if __name__ == "__main__":
    main()
