"""The document's call stacks (docs/profile-format.md, "stacks"), as every view and format reads
them: what each value is called and in which unit, how a frame is named, and the stacks with
their frames resolved. The flame graph, pprof, speedscope, collapsed stacks, `heatline merge`
and the Pyroscope push all take their vocabulary from here.
"""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple, Optional

MB = 1 << 20
CUT_FRAME = "[frames cut]"
NO_FRAME = "[no Python frame]"


class StackValue(NamedTuple):
    """One value a stack carries: its key in the document, a name for formats that need one
    (pprof's sample type, speedscope's profile), the unit there, and how to get there from the
    document's unit."""
    key: str
    name: str
    unit: str
    scale: float
    memory: bool


# The order is the one formats list them in: pprof's sample types, speedscope's profiles.
VALUES = (
    StackValue("samples", "samples", "count", 1, False),
    StackValue("python_s", "python", "nanoseconds", 1e9, False),
    StackValue("native_s", "native", "nanoseconds", 1e9, False),
    StackValue("system_s", "system", "nanoseconds", 1e9, False),
    StackValue("gil_wait_s", "gil_wait", "nanoseconds", 1e9, False),
    StackValue("idle_s", "idle", "nanoseconds", 1e9, False),
    StackValue("await_s", "await", "nanoseconds", 1e9, False),
    StackValue("alloc_mb", "alloc", "bytes", MB, True),
    StackValue("copy_mb", "copy", "bytes", MB, True),
    StackValue("peak_mb", "peak", "bytes", MB, True),
)
TIME_KEYS = ("python_s", "native_s", "system_s")
VALUES_BY_KEY = {value.key: value for value in VALUES}
# The three kinds together: the time the document's percentages are shares of, and what the
# export formats show first. Not in VALUES: no stack carries it, Stack.value adds it up.
TIME = StackValue("time_s", "time", "nanoseconds", 1e9, False)
# What the export formats (pprof, speedscope, collapsed stacks) carry, in their order.
EXPORT_VALUES = (VALUES[0], TIME, *VALUES[1:])


class Stack(NamedTuple):
    frames: tuple[dict[str, Any], ...]  # root first
    values: dict[str, Any]              # the stack entry: its value keys (None: not measured)

    def value(self, key: str) -> float:
        """The stack's value of `key` in the document's unit; 0 when not measured."""
        if key == TIME.key:
            return sum(self.value(kind) for kind in TIME_KEYS)
        return self.values.get(key) or 0


def has_stacks(doc: dict[str, Any]) -> bool:
    """Whether the document carries stacks (one written before stacks existed has none)."""
    return isinstance(doc.get("stacks"), dict) and bool(doc["stacks"].get("stacks"))


def has_memory_values(doc: dict[str, Any]) -> bool:
    """Whether the stacks carry memory (not under --cpu-only)."""
    return doc.get("memory_sampling_rate_bytes") is not None


def values_of(doc: dict[str, Any]) -> tuple[StackValue, ...]:
    """The values the document measured: memory ones only when memory was profiled."""
    memory = has_memory_values(doc)
    return tuple(value for value in VALUES if memory or not value.memory)


def export_values_of(doc: dict[str, Any]) -> tuple[StackValue, ...]:
    """EXPORT_VALUES that the document measured: memory ones only when memory was profiled."""
    memory = has_memory_values(doc)
    return tuple(value for value in EXPORT_VALUES if memory or not value.memory)


def frame_label(frame: dict[str, Any]) -> str:
    """A frame as a person reads it: `function (file:line)`; the cut marker as it is."""
    if frame.get("file") is None:
        return frame["function"]
    return f"{frame['function']} ({frame['file']}:{frame['line']})"


def iter_stacks(doc: dict[str, Any]) -> Iterator[Stack]:
    """Every stack of the document with its frames resolved, in document order; an empty stack
    (no Python frame) gets the frame NO_FRAME so that every format has a frame to show."""
    section = doc.get("stacks") or {}
    frames = section.get("frames", [])
    no_frame = ({"function": NO_FRAME, "file": None, "line": None, "first_line": None,
                 "program": False},)
    for entry in section.get("stacks", []):
        resolved = tuple(frames[index] for index in entry["frames"]) or no_frame
        yield Stack(resolved, entry)


def total(doc: dict[str, Any], key: str) -> Optional[float]:
    """A value summed over all stacks (None when the document has no stacks)."""
    if not has_stacks(doc):
        return None
    return sum(stack.value(key) for stack in iter_stacks(doc))


def frame_key(frame: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a frame across documents (docs/profile-format.md, "stacks")."""
    return (frame["function"], frame["file"], frame["line"], frame["first_line"])


def merge_stacks(documents: list[dict[str, Any]], peak_from: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The `stacks` section of documents summed: frames made one list, a stack met in several
    documents one entry with its sums. `peak_mb` is the one of `peak_from` (the document whose
    footprint peaked highest: other stacks get 0, so that the stacks' peaks still add up to the
    merged totals.peak_mb). None when no document has stacks."""
    sections = [d["stacks"] for d in documents if isinstance(d.get("stacks"), dict)]
    if not sections:
        return None
    memory = any(d.get("memory_sampling_rate_bytes") is not None for d in documents)
    frames: list[dict[str, Any]] = []
    frame_ids: dict[tuple[Any, ...], int] = {}
    stacks: dict[tuple[int, ...], dict[str, Any]] = {}
    sums = [value.key for value in VALUES if value.key != "peak_mb"]
    for document in documents:
        section = document.get("stacks")
        if not isinstance(section, dict):
            continue
        local = []
        for frame in section["frames"]:
            key = frame_key(frame)
            if key not in frame_ids:
                frame_ids[key] = len(frames)
                frames.append(dict(frame))
            local.append(frame_ids[key])
        for entry in section["stacks"]:
            path = tuple(local[i] for i in entry["frames"])
            into = stacks.get(path)
            if into is None:
                into = stacks[path] = {"frames": list(path), "peak_mb": 0.0 if memory else None,
                                       **{key: (0 if key == "samples" else 0.0)
                                          if memory or not VALUES_BY_KEY[key].memory else None
                                          for key in sums}}
            for key in sums:
                if into[key] is not None:
                    into[key] += entry.get(key) or 0
            if document is peak_from and entry.get("peak_mb") is not None:
                into["peak_mb"] = entry["peak_mb"]
    merged = {"credits": 0, "seconds": 0.0, "alloc_mb": 0.0 if memory else None}
    for section in sections:
        for key in merged:
            value = (section.get("merged") or {}).get(key)
            if value is not None and merged[key] is not None:
                merged[key] += value
    return {"max_depth": max(s["max_depth"] for s in sections), "limit": max(s["limit"] for s in sections),
            "merged": merged, "frames": frames, "stacks": list(stacks.values())}
