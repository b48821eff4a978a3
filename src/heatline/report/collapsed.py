"""The document's stacks as collapsed stacks, the input of flamegraph.pl and inferno: one line
per stack, its frames root first joined by ';', a space, and one whole number.

The number is one value of the stack (stacks.EXPORT_VALUES, by name): by default the time
(python + native + system) in microseconds; any kind of time in microseconds, the CPU sample
count, or the bytes allocated, copied or live at the footprint's peak. A frame is written
`function (file:line)` (stacks.frame_label); a ';' in it becomes ':' and a line break a space,
so that every line parses. Stacks whose value rounds to 0 are left out.
"""

from __future__ import annotations

from typing import Any, TextIO

from .stacks import EXPORT_VALUES, TIME, StackValue, frame_label, iter_stacks

DEFAULT_VALUE = TIME.name
# flamegraph.pl and inferno read whole numbers: nanoseconds would be needlessly long, and a
# microsecond keeps a 5 ms sample at 5000.
MICROSECONDS_PER_SECOND = 1e6
VALUE_NAMES = tuple(value.name for value in EXPORT_VALUES)


def value_named(name: str) -> StackValue:
    """The value a collapsed file carries, by its name (one of VALUE_NAMES)."""
    return next(value for value in EXPORT_VALUES if value.name == name)


def scale_of(value: StackValue) -> float:
    """From the document's unit of `value` to the collapsed file's: microseconds for time, the
    export unit (bytes, a count) for the others."""
    return MICROSECONDS_PER_SECOND if value.unit == "nanoseconds" else value.scale


def write(doc: dict[str, Any], out: TextIO, value: str = DEFAULT_VALUE) -> None:
    """Write `doc`'s stacks to `out` as collapsed stacks of the value named `value`."""
    chosen = value_named(value)
    scale = scale_of(chosen)
    # A frame object of the document, met again in another stack, is named once.
    names: dict[int, str] = {}
    for stack in iter_stacks(doc):
        number = round(stack.value(chosen.key) * scale)
        if number:
            path = []
            for frame in stack.frames:
                name = names.get(id(frame))
                if name is None:
                    name = names[id(frame)] = frame_name(frame)
                path.append(name)
            out.write(";".join(path) + f" {number}\n")


def frame_name(frame: dict[str, Any]) -> str:
    """A frame's label with nothing in it that would break a line of the format."""
    label = frame_label(frame)
    return label.replace(";", ":").replace("\r", " ").replace("\n", " ")
