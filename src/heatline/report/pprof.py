"""The document's stacks as a pprof profile: google/pprof's `profile.proto`, serialized and
gzip-compressed, as `go tool pprof`, Pyroscope, Parca and Google Cloud Profiler read it.

One Location per frame (a frame is a function on one line already), one Function per
(name, file, first line), one Sample per stack with its locations leaf first. Sample types:
the CPU sample count, the time (python + native + system, the default type), each kind of time
and GIL wait in nanoseconds, and, when memory was measured, the bytes allocated and copied.
pprof adds values up when it merges, so the peak (live at the footprint's highest moment, not
a sum over time) has no sample type, nor do leaks or memory trends (README, "Call stacks and
the standard formats").

The protobuf wire encoding is written here, in the few functions it needs: the runtime of
heatline depends on no protobuf package.
"""

from __future__ import annotations

import functools
import gzip
import shlex
from typing import Any, Iterable

from .stacks import TIME, export_values_of, frame_key, iter_stacks

# Field numbers of profile.proto (messages Profile, ValueType, Sample, Location, Line,
# Function, Mapping).
PROFILE_SAMPLE_TYPE = 1
PROFILE_SAMPLE = 2
PROFILE_MAPPING = 3
PROFILE_LOCATION = 4
PROFILE_FUNCTION = 5
PROFILE_STRING_TABLE = 6
PROFILE_DURATION_NANOS = 10
PROFILE_PERIOD_TYPE = 11
PROFILE_PERIOD = 12
PROFILE_COMMENT = 13
PROFILE_DEFAULT_SAMPLE_TYPE = 14
VALUE_TYPE_TYPE = 1
VALUE_TYPE_UNIT = 2
SAMPLE_LOCATION_ID = 1
SAMPLE_VALUE = 2
LOCATION_ID = 1
LOCATION_MAPPING_ID = 2
LOCATION_LINE = 4
LINE_FUNCTION_ID = 1
LINE_LINE = 2
FUNCTION_ID = 1
FUNCTION_NAME = 2
FUNCTION_FILENAME = 4
FUNCTION_START_LINE = 5
MAPPING_ID_FIELD = 1
MAPPING_FILENAME = 5
MAPPING_HAS_FUNCTIONS = 7
MAPPING_HAS_FILENAMES = 8
MAPPING_HAS_LINE_NUMBERS = 9
MAPPING_ID = 1

WIRE_VARINT = 0
WIRE_LENGTH_DELIMITED = 2
# int64 fields carry negative numbers as their 64-bit two's complement (ten bytes on the
# wire): a delta of two snapshots may have some.
UINT64_MASK = (1 << 64) - 1
# pprof adds the values of samples up when it merges profiles: a peak does not add up.
NOT_ADDITIVE = {"peak_mb"}


def encode(doc: dict[str, Any]) -> bytes:
    """The gzip-compressed, serialized pprof Profile of the document's stacks. Besides `stacks`
    it reads `program`, `argv`, `heatline_version`, `elapsed_s`, `cpu_sampling_interval_s` and
    `memory_sampling_rate_bytes`. A stack's values may be negative (a delta of two snapshots);
    a document with no stacks gives a profile with its sample types and no sample."""
    strings = StringTable()
    symbols = Symbols(strings)
    values = [value for value in export_values_of(doc) if value.key not in NOT_ADDITIVE]
    body = bytearray()
    for value in values:
        body += length_delimited(PROFILE_SAMPLE_TYPE, value_type(strings, value.name, value.unit))
    for stack in iter_stacks(doc):
        location_ids = [symbols.location_id(frame) for frame in reversed(stack.frames)]
        numbers = [round(stack.value(value.key) * value.scale) for value in values]
        body += length_delimited(PROFILE_SAMPLE, packed(SAMPLE_LOCATION_ID, location_ids)
                                 + packed(SAMPLE_VALUE, numbers))
    body += length_delimited(PROFILE_MAPPING, mapping(strings, doc["program"]))
    body += symbols.encoded
    body += integer(PROFILE_DURATION_NANOS, round(doc["elapsed_s"] * 1e9))
    body += length_delimited(PROFILE_PERIOD_TYPE, value_type(strings, "cpu", "nanoseconds"))
    body += integer(PROFILE_PERIOD, round(doc["cpu_sampling_interval_s"] * 1e9))
    body += integer(PROFILE_COMMENT, strings.index(comment_of(doc)))
    body += integer(PROFILE_DEFAULT_SAMPLE_TYPE, strings.index(TIME.name))
    for text in strings.texts:
        body += length_delimited(PROFILE_STRING_TABLE, text.encode("utf-8"))
    # mtime=0: the same document always gives the same bytes.
    return gzip.compress(bytes(body), mtime=0)


def comment_of(doc: dict[str, Any]) -> str:
    """The profile's comment: heatline's version and the command line of the program."""
    arguments = doc.get("argv", [])[1:]
    command = f"{doc['program']} {shlex.join(arguments)}" if arguments else doc["program"]
    version = doc.get("heatline_version")
    return f"heatline {version} profile of {command}" if version else f"heatline profile of {command}"


class StringTable:
    """profile.proto's string table: every string once, "" first, referred to by index."""

    def __init__(self) -> None:
        self.texts: list[str] = [""]
        self._indices = {"": 0}

    def index(self, text: str) -> int:
        if text not in self._indices:
            self._indices[text] = len(self.texts)
            self.texts.append(text)
        return self._indices[text]


class Symbols:
    """The Locations (one per frame) and Functions (one per name, file and first line), each
    encoded once, numbered from 1 in the order the stacks first use them."""

    def __init__(self, strings: StringTable) -> None:
        self.strings = strings
        self.encoded = bytearray()
        self._locations: dict[tuple[Any, ...], int] = {}
        self._functions: dict[tuple[str, str, int], int] = {}
        # The document's frames are shared by its stacks (thousands of them, tens deep): a frame
        # object seen before is found by its identity, without building its key again.
        self._seen: dict[int, int] = {}

    def location_id(self, frame: dict[str, Any]) -> int:
        seen = self._seen.get(id(frame))
        if seen is None:
            seen = self._seen[id(frame)] = self._location_id_by_key(frame)
        return seen

    def _location_id_by_key(self, frame: dict[str, Any]) -> int:
        key = frame_key(frame)
        if key not in self._locations:
            self._locations[key] = len(self._locations) + 1
            line = (integer(LINE_FUNCTION_ID, self._function_id(frame))
                    + integer(LINE_LINE, frame["line"] or 0))
            self.encoded += length_delimited(PROFILE_LOCATION, integer(LOCATION_ID, self._locations[key])
                                             + integer(LOCATION_MAPPING_ID, MAPPING_ID)
                                             + length_delimited(LOCATION_LINE, line))
        return self._locations[key]

    def _function_id(self, frame: dict[str, Any]) -> int:
        key = (frame["function"], frame["file"] or "", frame["first_line"] or 0)
        if key not in self._functions:
            self._functions[key] = len(self._functions) + 1
            name, file, first_line = key
            self.encoded += length_delimited(PROFILE_FUNCTION, integer(FUNCTION_ID, self._functions[key])
                                             + integer(FUNCTION_NAME, self.strings.index(name))
                                             + integer(FUNCTION_FILENAME, self.strings.index(file))
                                             + integer(FUNCTION_START_LINE, first_line))
        return self._functions[key]


def mapping(strings: StringTable, program: str) -> bytes:
    """The one Mapping every Location is in: the program, already symbolized (pprof then looks
    for no binary to read names from)."""
    return (integer(MAPPING_ID_FIELD, MAPPING_ID) + integer(MAPPING_FILENAME, strings.index(program))
            + integer(MAPPING_HAS_FUNCTIONS, 1) + integer(MAPPING_HAS_FILENAMES, 1)
            + integer(MAPPING_HAS_LINE_NUMBERS, 1))


def value_type(strings: StringTable, kind: str, unit: str) -> bytes:
    return integer(VALUE_TYPE_TYPE, strings.index(kind)) + integer(VALUE_TYPE_UNIT, strings.index(unit))


# A profile writes the same small numbers (location ids) again and again.
@functools.lru_cache(maxsize=1 << 16)
def varint(number: int) -> bytes:
    """Base-128, least significant group first, the high bit set on every byte but the last."""
    number &= UINT64_MASK
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def field_key(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def integer(field: int, number: int) -> bytes:
    """An integer field; a zero is left out, as proto3 reads a missing field as zero."""
    return field_key(field, WIRE_VARINT) + varint(number) if number else b""


def length_delimited(field: int, data: bytes) -> bytes:
    """A string, an embedded message or a packed run: its length, then its bytes."""
    return field_key(field, WIRE_LENGTH_DELIMITED) + varint(len(data)) + data


def packed(field: int, numbers: Iterable[int]) -> bytes:
    """A repeated integer field in proto3's packed form: one length-delimited run of varints."""
    return length_delimited(field, b"".join(varint(number) for number in numbers))
