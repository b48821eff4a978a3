"""The document's stacks as a speedscope file (speedscope.app's file-format-spec.ts): every
frame once, with its file and line, and one "sampled" profile per value the document measured
(the CPU sample count, the time, each kind of time and GIL wait in nanoseconds, the bytes
allocated, copied and live at the footprint's peak). A profile lists the stacks whose value is
not zero, each with its value as the weight; the time profile is the one speedscope opens on.
"""

from __future__ import annotations

import json
import os
from typing import Any, TextIO

from .stacks import TIME, Stack, StackValue, export_values_of, frame_key, iter_stacks

SCHEMA = "https://www.speedscope.app/file-format-schema.json"
# speedscope's units are none, nanoseconds, microseconds, milliseconds, seconds and bytes: a
# count is "none".
UNITS = {"count": "none"}


def write(doc: dict[str, Any], out: TextIO) -> None:
    """Write the speedscope JSON of `doc`'s stacks to `out`."""
    stacks = list(iter_stacks(doc))
    frames, paths = frames_and_paths(stacks)
    values = export_values_of(doc)
    program = os.path.basename(doc["program"])
    version = doc.get("heatline_version")
    # json.dumps encodes in C; json.dump would write piece by piece in Python, ten times slower.
    out.write(json.dumps({
        "$schema": SCHEMA,
        "name": f"heatline profile of {program}",
        "exporter": f"heatline {version}" if version else "heatline",
        "activeProfileIndex": values.index(TIME),
        "shared": {"frames": frames},
        "profiles": [profile_of(f"{program}: {value.name}", value, stacks, paths) for value in values],
    }) + "\n")


def frames_and_paths(stacks: list[Stack]) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """The speedscope frames, each once, and every stack as indices into them, root first."""
    frames: list[dict[str, Any]] = []
    indices: dict[tuple[Any, ...], int] = {}
    # A frame object of the document, met again in another stack, is found by its identity.
    seen: dict[int, int] = {}
    paths = []
    for stack in stacks:
        path = []
        for frame in stack.frames:
            index = seen.get(id(frame))
            if index is None:
                key = frame_key(frame)
                if key not in indices:
                    indices[key] = len(frames)
                    frames.append(frame_of(frame))
                index = seen[id(frame)] = indices[key]
            path.append(index)
        paths.append(path)
    return frames, paths


def frame_of(frame: dict[str, Any]) -> dict[str, Any]:
    """A speedscope frame: the function's name, and its file and line when it has them."""
    if frame["file"] is None:
        return {"name": frame["function"]}
    return {"name": frame["function"], "file": frame["file"], "line": frame["line"]}


def profile_of(name: str, value: StackValue, stacks: list[Stack], paths: list[list[int]]) -> dict[str, Any]:
    """One sampled profile: the stacks (root first) that carry some of `value`, weighted by it
    in the format's unit (whole nanoseconds or bytes)."""
    samples, weights = [], []
    for stack, path in zip(stacks, paths):
        weight = round(stack.value(value.key) * value.scale)
        if weight:
            samples.append(path)
            weights.append(weight)
    return {"type": "sampled", "name": name, "unit": UNITS.get(value.unit, value.unit),
            "startValue": 0, "endValue": sum(weights), "samples": samples, "weights": weights}
