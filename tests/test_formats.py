"""The call stacks in standard formats: pprof read by `go tool pprof` and decoded by the protobuf
runtime, speedscope JSON, collapsed stacks; the options on a run and on `heatline view`, and
what they do with bad input.

One profile of tests/programs/formats_truth.py (a calls b and c, 1:2 in Python work, then
allocate keeps 48 MB) is made once with every format and shared by the tests that read it.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import subprocess
from collections import defaultdict

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.unknown_fields import UnknownFieldSet

from conftest import (MB, PROGRAMS, SUM_ABSOLUTE_TOLERANCE_S, SUM_RELATIVE_TOLERANCE, Runner,
                      assert_no_heatline_traceback, time_s)
from heatline.report import collapsed, pprof, speedscope
from heatline.report.stacks import EXPORT_VALUES, NO_FRAME, TIME, StackValue, frame_label

FORMATS_TRUTH = PROGRAMS / "formats_truth.py"
LEAVES_ITS_DIRECTORY = PROGRAMS / "leaves_its_directory.py"
# Each stack's value is rounded to a whole unit of its format (nanosecond, byte, microsecond)
# on its own, so a sum over n stacks is off the sum of the document's figures by n / 2 at most.
ROUNDING_PER_STACK = 0.5
# The document's totals are rounded apart from its stacks (docs/profile-format.md): a total and
# the sum of the stacks agree within the conftest's tolerances for sums, in seconds or MB.
MB_ABSOLUTE_TOLERANCE = 0.01
# allocate keeps 48 buffers of 1 MB: at the default rate of 1 MB, about 30 of them are sampled
# (standard deviation 3.3), each standing for 1.58 MB; half of the 48 MB is 4.5 deviations below.
ALLOCATED_BYTES = 48 * MB
ALLOCATED_SHARE_AT_LEAST = 0.5
# A call of `go tool pprof` takes about 20 ms here; this catches a hang.
GO_TIMEOUT_S = 60
SPEEDSCOPE_UNITS = {"none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"}


# ---- the shared profile -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(installed_heatline, tmp_path_factory) -> dict:
    """formats_truth.py profiled once, with the document and every format written by the run."""
    folder = tmp_path_factory.mktemp("formats")
    runner = Runner(folder)
    paths = {"json": folder / "p.json", "pprof": folder / "p.pb.gz",
             "speedscope": folder / "p.speedscope.json", "collapsed": folder / "p.collapsed"}
    result = runner.command("--json", "--outfile", paths["json"], "--pprof", paths["pprof"],
                            "--speedscope", paths["speedscope"], "--collapsed", paths["collapsed"],
                            FORMATS_TRUTH)
    assert result.returncode == 0, result.stderr
    assert_no_heatline_traceback(result.stderr)
    document = json.loads(paths["json"].read_text())
    assert document["stacks"]["stacks"], "the engine recorded no stack"
    return {"document": document, "paths": paths, "runner": runner}


def stack_value(entry: dict, key: str) -> float:
    """A stack entry's value in the document's unit, TIME included; idle_s and await_s are 0 in
    a document written before idle waiting and await time were told apart (hand_document's are
    such)."""
    if key == TIME.key:
        return sum(entry[kind] for kind in ("python_s", "native_s", "system_s"))
    return (entry.get(key) if key in ("idle_s", "await_s") else entry[key]) or 0


def total_of(document: dict, key: str) -> float:
    """The document's total of a value, from `totals` (or `samples`), in the document's unit."""
    if key == "samples":
        return document["samples"]["cpu"]
    if key == TIME.key:
        return time_s(document["totals"])
    return document["totals"][key]


def assert_sum_matches_total(measured: float, document: dict, value: StackValue, stacks: int) -> None:
    """A format's sum of `value` over the stacks, in the format's unit, against the document's
    total: within the per-stack rounding and the document's own rounding of sums. Counts are
    whole numbers, never rounded: the stacks' samples add up to samples.cpu exactly."""
    total = total_of(document, value.key) * value.scale
    absolute = MB_ABSOLUTE_TOLERANCE if value.unit == "bytes" else SUM_ABSOLUTE_TOLERANCE_S
    margin = stacks * ROUNDING_PER_STACK + total * SUM_RELATIVE_TOLERANCE + absolute * value.scale
    if value.unit == "count":
        margin = 0
    assert abs(measured - total) <= margin, (value.name, measured, total)


def functions_of(document: dict, key: str, scale: float) -> dict[str, dict[str, float]]:
    """Each function's own (flat: it is the innermost frame) and inclusive (cum) value over the
    document's stacks, as pprof's -top computes them, keyed by function name."""
    frames = document["stacks"]["frames"]
    flat: dict[str, float] = defaultdict(float)
    cum: dict[str, float] = defaultdict(float)
    for entry in document["stacks"]["stacks"]:
        value = round(stack_value(entry, key) * scale)
        names = [frames[index]["function"] for index in entry["frames"]] or [NO_FRAME]
        flat[names[-1]] += value
        for name in set(names):
            cum[name] += value
    return {name: {"flat": flat[name], "cum": cum[name]} for name in cum}


# ---- go tool pprof: a real consumer ---------------------------------------------------------------

@pytest.fixture(scope="module")
def go_tool_pprof(tmp_path_factory):
    """Runs `go tool pprof ARGS`; go needs a writable HOME and GOCACHE. Debian's golang-go is
    installed by tests/need-go.sh (make test-py): without it this fails, it never skips."""
    go = shutil.which("go")
    if go is None:
        pytest.fail("go is not installed: tests/need-go.sh installs golang-go (make test-py)",
                    pytrace=False)
    home = tmp_path_factory.mktemp("go-home")
    env = {**os.environ, "HOME": str(home), "GOCACHE": str(home / "cache")}

    def run(*args: str) -> str:
        result = subprocess.run([go, "tool", "pprof", *map(str, args)], env=env, text=True,
                                capture_output=True, timeout=GO_TIMEOUT_S)
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


TOP_ROW = re.compile(r"^\s*(\S+)\s+\S+%\s+\S+%\s+(\S+)\s+\S+%\s+(.+?)\s*$")
PPROF_UNIT_FLAG = {"nanoseconds": "ns", "bytes": "B", "count": ""}


def top_rows(output: str, unit: str) -> dict[str, dict[str, float]]:
    """The rows of `go tool pprof -top`, by function name: flat and cum in whole `unit`s."""
    rows = {}
    lines = output.splitlines()
    header = next(index for index, line in enumerate(lines) if line.split()[:2] == ["flat", "flat%"])
    for line in lines[header + 1:]:
        match = TOP_ROW.match(line)
        assert match, line
        flat, cum, name = match.groups()
        rows[name] = {"flat": float(flat.removesuffix(unit)), "cum": float(cum.removesuffix(unit))}
    return rows


@pytest.mark.parametrize("name", [value.name for value in EXPORT_VALUES if value.name != "peak"])
def test_go_tool_pprof_lists_every_function_with_the_documents_figures(exported, go_tool_pprof, name):
    document = exported["document"]
    value = next(value for value in EXPORT_VALUES if value.name == name)
    unit = PPROF_UNIT_FLAG[value.unit]
    output = go_tool_pprof("-top", "-nodefraction=0", "-nodecount=100000", f"-sample_index={name}",
                           *([f"-unit={unit}"] if unit else []), exported["paths"]["pprof"])
    assert f"Type: {name}\n" in output, output
    assert f"heatline {document['heatline_version']} profile of {document['program']}" in output
    rows = top_rows(output, unit)
    expected = functions_of(document, value.key, value.scale)
    shown = {function: figures for function, figures in expected.items() if figures["cum"]}
    assert rows == shown
    stacks = len(document["stacks"]["stacks"])
    total = float(re.search(r"Total samples = (\S+)", output).group(1).removesuffix(unit))
    assert_sum_matches_total(total, document, value, stacks)
    if name == "time":
        # c does two units of work, b one (allocate's page faults may cost as much as b, so the
        # order is checked between the two only: one run had allocate at 110 ms, b at 90 ms).
        assert rows["c"]["flat"] > rows["b"]["flat"] > 0, rows
        assert rows["a"]["cum"] >= rows["b"]["flat"] + rows["c"]["flat"], rows
    if name == "alloc":
        assert rows["allocate"]["flat"] >= ALLOCATED_BYTES * ALLOCATED_SHARE_AT_LEAST, rows


def test_go_tool_pprof_reads_every_sample_exactly_with_time_as_the_default(exported, go_tool_pprof):
    document = exported["document"]
    raw = go_tool_pprof("-raw", exported["paths"]["pprof"])
    values = [value for value in EXPORT_VALUES if value.name != "peak"]
    header = " ".join(f"{value.name}/{value.unit}" + ("[dflt]" if value is TIME else "")
                      for value in values)
    assert header in raw, raw
    assert f"Period: {round(document['cpu_sampling_interval_s'] * 1e9)}\n" in raw
    assert "PeriodType: cpu nanoseconds\n" in raw
    samples = raw.split("Samples:\n")[1].split("Locations\n")[0].splitlines()[1:]
    read = sorted(tuple(int(number) for number in line.split(":")[0].split()) for line in samples)
    written = sorted(tuple(round(stack_value(entry, value.key) * value.scale) for value in values)
                     for entry in document["stacks"]["stacks"])
    assert read == written


# ---- pprof decoded by the protobuf runtime ------------------------------------------------------

PROFILE_PROTO = {
    # message: [(field number, name, type, repeated, message type)], from google/pprof's
    # proto/profile.proto.
    "Profile": [(1, "sample_type", "message", True, "ValueType"), (2, "sample", "message", True, "Sample"),
                (3, "mapping", "message", True, "Mapping"), (4, "location", "message", True, "Location"),
                (5, "function", "message", True, "Function"), (6, "string_table", "string", True, None),
                (7, "drop_frames", "int64", False, None), (8, "keep_frames", "int64", False, None),
                (9, "time_nanos", "int64", False, None), (10, "duration_nanos", "int64", False, None),
                (11, "period_type", "message", False, "ValueType"), (12, "period", "int64", False, None),
                (13, "comment", "int64", True, None), (14, "default_sample_type", "int64", False, None)],
    "ValueType": [(1, "type", "int64", False, None), (2, "unit", "int64", False, None)],
    "Sample": [(1, "location_id", "uint64", True, None), (2, "value", "int64", True, None)],
    "Mapping": [(1, "id", "uint64", False, None), (2, "memory_start", "uint64", False, None),
                (3, "memory_limit", "uint64", False, None), (4, "file_offset", "uint64", False, None),
                (5, "filename", "int64", False, None), (6, "build_id", "int64", False, None),
                (7, "has_functions", "bool", False, None), (8, "has_filenames", "bool", False, None),
                (9, "has_line_numbers", "bool", False, None), (10, "has_inline_frames", "bool", False, None)],
    "Location": [(1, "id", "uint64", False, None), (2, "mapping_id", "uint64", False, None),
                 (3, "address", "uint64", False, None), (4, "line", "message", True, "Line"),
                 (5, "is_folded", "bool", False, None)],
    "Line": [(1, "function_id", "uint64", False, None), (2, "line", "int64", False, None)],
    "Function": [(1, "id", "uint64", False, None), (2, "name", "int64", False, None),
                 (3, "system_name", "int64", False, None), (4, "filename", "int64", False, None),
                 (5, "start_line", "int64", False, None)],
}


@pytest.fixture(scope="module")
def profile_message():
    """The Profile message class, built from PROFILE_PROTO with the protobuf runtime (no
    generated module, no protoc)."""
    descriptor = descriptor_pb2.FileDescriptorProto(name="heatline_test_profile.proto",
                                                    package="perftools.profiles", syntax="proto3")
    Field = descriptor_pb2.FieldDescriptorProto
    for message, fields in PROFILE_PROTO.items():
        added = descriptor.message_type.add(name=message)
        for number, name, kind, repeated, type_name in fields:
            field = added.field.add(name=name, number=number,
                                    type=getattr(Field, f"TYPE_{kind.upper()}"),
                                    label=Field.LABEL_REPEATED if repeated else Field.LABEL_OPTIONAL)
            if type_name:
                field.type_name = f".perftools.profiles.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("perftools.profiles.Profile"))


def decode(profile_message, data: bytes):
    profile = profile_message()
    profile.ParseFromString(gzip.decompress(data))
    assert len(UnknownFieldSet(profile)) == 0, "a field profile.proto does not define"
    return profile


def assert_pprof_is_the_document(profile, document: dict) -> None:
    """Every sample against the document's stack in the same place: its locations, leaf first,
    are the stack's frames, and its values the stack's, in pprof's units."""
    strings = profile.string_table
    assert strings[0] == ""
    memory = document["memory_sampling_rate_bytes"] is not None
    values = [value for value in EXPORT_VALUES if value.name != "peak" and (memory or not value.memory)]
    assert [(strings[t.type], strings[t.unit]) for t in profile.sample_type] == \
        [(value.name, value.unit) for value in values]
    assert strings[profile.default_sample_type] == "time"
    locations = {location.id: location for location in profile.location}
    functions = {function.id: function for function in profile.function}
    assert len(locations) == len(profile.location) and len(functions) == len(profile.function)
    assert all(location.mapping_id == profile.mapping[0].id for location in profile.location)
    frames = document["stacks"]["frames"]
    entries = document["stacks"]["stacks"]
    assert len(profile.sample) == len(entries)
    for sample, entry in zip(profile.sample, entries):
        read = []
        for location_id in sample.location_id:
            (line,) = locations[location_id].line
            function = functions[line.function_id]
            read.append((strings[function.name], strings[function.filename], line.line,
                         function.start_line))
        expected = [pprof_frame(frames[index]) for index in reversed(entry["frames"])]
        assert read == (expected or [(NO_FRAME, "", 0, 0)])
        assert list(sample.value) == [round(stack_value(entry, value.key) * value.scale)
                                      for value in values]
    used = {pprof_frame(frames[index]) for entry in entries for index in entry["frames"]}
    used |= {(NO_FRAME, "", 0, 0) for entry in entries if not entry["frames"]}
    assert len(locations) == len(used), "one Location per frame"
    assert len(functions) == len({(name, file, first_line) for name, file, _, first_line in used}), \
        "one Function per name, file and first line"


def pprof_frame(frame: dict) -> tuple:
    """A document's frame as pprof holds it: a missing file is "" and a missing line 0."""
    return (frame["function"], frame["file"] or "", frame["line"] or 0, frame["first_line"] or 0)


def test_pprof_decoded_by_protobuf_holds_every_stack_and_value_of_the_document(exported, profile_message):
    document = exported["document"]
    profile = decode(profile_message, exported["paths"]["pprof"].read_bytes())
    assert_pprof_is_the_document(profile, document)
    strings = profile.string_table
    assert (strings[profile.period_type.type], strings[profile.period_type.unit]) == ("cpu", "nanoseconds")
    assert profile.period == round(document["cpu_sampling_interval_s"] * 1e9)
    assert profile.duration_nanos == round(document["elapsed_s"] * 1e9)
    assert [strings[index] for index in profile.comment] == [
        f"heatline {document['heatline_version']} profile of {document['program']}"]


# Hand-made documents: what a real run seldom or never gives.
FRAMES = [
    {"function": "<module>", "file": "/w/prog.py", "line": 9, "first_line": 1, "program": True},
    {"function": "odd;name\nhere", "file": "/w/semi;colon.py", "line": 3, "first_line": 2, "program": True},
    {"function": "[frames cut]", "file": None, "line": None, "first_line": None, "program": False},
]


def hand_document(stacks: list[dict], memory: bool = True) -> dict:
    def entry(frames: list[int], seconds: float, mb: float) -> dict:
        return {"frames": frames, "samples": 3, "python_s": seconds, "native_s": 0.0,
                "system_s": seconds / 2, "gil_wait_s": 0.0, "alloc_mb": mb if memory else None,
                "copy_mb": 0.0 if memory else None, "peak_mb": mb if memory else None}

    return {"schema": "heatline-profile/1", "program": "/w/prog.py", "argv": ["prog.py", "-x"],
            "heatline_version": "0.1.0", "elapsed_s": 1.0, "cpu_sampling_interval_s": 0.005,
            "memory_sampling_rate_bytes": 1048576 if memory else None,
            "stacks": {"max_depth": 128, "limit": 65536, "frames": FRAMES,
                       "merged": {"credits": 0, "seconds": 0.0, "alloc_mb": 0.0},
                       "stacks": [entry(*stack) for stack in stacks]}}


def test_pprof_carries_negative_values_of_a_delta_and_an_empty_stack(profile_message):
    """A delta of two snapshots (the Pyroscope push) may lose a little; an empty stack is time
    in a thread with no Python frame."""
    document = hand_document([([0, 1], -0.25, -1.5), ([], 0.125, 2.0), ([0, 2, 1], 0.5, 0.0)])
    assert_pprof_is_the_document(decode(profile_message, pprof.encode(document)), document)


def test_pprof_of_a_cpu_only_document_has_no_memory_sample_type(profile_message):
    document = hand_document([([0], 0.5, 0.0)], memory=False)
    profile = decode(profile_message, pprof.encode(document))
    assert [profile.string_table[t.type] for t in profile.sample_type] == \
        ["samples", "time", "python", "native", "system", "gil_wait", "idle", "await"]
    assert_pprof_is_the_document(profile, document)


def test_pprof_of_a_document_with_no_stack_is_a_valid_empty_profile(profile_message):
    profile = decode(profile_message, pprof.encode(hand_document([])))
    assert len(profile.sample) == 0 and len(profile.sample_type) == 10
    assert pprof.encode(hand_document([])) == pprof.encode(hand_document([])), "not reproducible"


# ---- speedscope ---------------------------------------------------------------------------------

def test_speedscope_has_one_profile_per_value_summing_to_the_documents_totals(exported):
    document = exported["document"]
    file = json.loads(exported["paths"]["speedscope"].read_text())
    assert file["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = file["shared"]["frames"]
    assert all(isinstance(frame["name"], str) and frame["name"] for frame in frames)
    assert all(isinstance(frame["line"], int) and os.path.isabs(frame["file"])
               for frame in frames if "file" in frame)
    assert [profile["name"] for profile in file["profiles"]] == \
        [f"{FORMATS_TRUTH.name}: {value.name}" for value in EXPORT_VALUES]
    assert file["profiles"][file["activeProfileIndex"]]["name"].endswith(": time")
    stacks = len(document["stacks"]["stacks"])
    labels = {tuple(frame_label(document["stacks"]["frames"][i]) for i in entry["frames"]) or (NO_FRAME,)
              for entry in document["stacks"]["stacks"]}
    for value, profile in zip(EXPORT_VALUES, file["profiles"]):
        assert profile["type"] == "sampled" and profile["unit"] in SPEEDSCOPE_UNITS
        assert profile["unit"] == {"count": "none"}.get(value.unit, value.unit)
        assert len(profile["samples"]) == len(profile["weights"]) and all(profile["weights"])
        assert profile["startValue"] == 0 and profile["endValue"] == sum(profile["weights"])
        assert_sum_matches_total(sum(profile["weights"]), document, value, stacks)
        for sample in profile["samples"]:
            named = tuple(frame_label({"function": frames[i]["name"], "file": frames[i].get("file"),
                                       "line": frames[i].get("line")}) for i in sample)
            assert named in labels, named


def test_speedscope_of_hand_made_stacks_keeps_names_and_leaves_zero_weights_out():
    document = hand_document([([0, 1], 0.25, 0.0), ([0, 2], 0.0, 1.0)])
    out = io.StringIO()
    speedscope.write(document, out)
    file = json.loads(out.getvalue())
    assert file["shared"]["frames"] == [{"name": "<module>", "file": "/w/prog.py", "line": 9},
                                        {"name": "odd;name\nhere", "file": "/w/semi;colon.py", "line": 3},
                                        {"name": "[frames cut]"}]
    by_name = {profile["name"]: profile for profile in file["profiles"]}
    assert by_name["prog.py: python"]["samples"] == [[0, 1]]
    assert by_name["prog.py: python"]["weights"] == [250_000_000]
    assert by_name["prog.py: peak"]["samples"] == [[0, 2]] and by_name["prog.py: peak"]["weights"] == [MB]


# ---- collapsed stacks ---------------------------------------------------------------------------

COLLAPSED_LINE = re.compile(r"^(\S.*) (\d+)$")


def read_collapsed(text: str) -> list[tuple[list[str], int]]:
    lines = []
    for line in text.splitlines():
        match = COLLAPSED_LINE.match(line)
        assert match, line
        lines.append((match.group(1).split(";"), int(match.group(2))))
    return lines


def test_collapsed_lines_are_the_stacks_with_their_time_in_microseconds(exported):
    document = exported["document"]
    lines = read_collapsed(exported["paths"]["collapsed"].read_text())
    frames = document["stacks"]["frames"]
    expected = {}
    for entry in document["stacks"]["stacks"]:
        micros = round(stack_value(entry, TIME.key) * 1e6)
        if micros:
            expected[";".join(frame_label(frames[i]) for i in entry["frames"]) or NO_FRAME] = micros
    assert {";".join(names): number for names, number in lines} == expected
    in_microseconds = StackValue(TIME.key, TIME.name, "microseconds", 1e6, False)
    assert_sum_matches_total(sum(number for _, number in lines), document, in_microseconds, len(lines))
    leaves = defaultdict(int)
    for names, number in lines:
        leaves[names[-1].split(" (")[0]] += number
    assert leaves["c"] > leaves["b"] > 0, leaves


def test_collapsed_value_peak_in_bytes_through_view_shows_what_was_live_at_the_peak(exported):
    runner = exported["runner"]
    outfile = runner.new_path("peak", ".collapsed")
    result = runner.command("view", exported["paths"]["json"], "--json", "--outfile", os.devnull,
                            "--collapsed", outfile, "--collapsed-value", "peak")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    lines = read_collapsed(outfile.read_text())
    peak = next(value for value in EXPORT_VALUES if value.name == "peak")
    assert_sum_matches_total(sum(number for _, number in lines), exported["document"], peak, len(lines))
    biggest = max(lines, key=lambda line: line[1])
    assert biggest[0][-1].startswith("allocate ("), biggest


def test_collapsed_frame_names_never_break_a_line():
    document = hand_document([([0, 1], 0.25, 0.0), ([], 0.002, 0.0), ([0, 2], 0.0000001, 0.0)])
    out = io.StringIO()
    collapsed.write(document, out)
    assert out.getvalue() == ("<module> (/w/prog.py:9);odd:name here (/w/semi:colon.py:3) 375000\n"
                              "[no Python frame] 3000\n")


# ---- the options --------------------------------------------------------------------------------

def test_a_run_with_export_options_prints_the_text_report_and_writes_where_it_was_started(
        heatline, tmp_path, profile_message):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = heatline.command("--cpu-only", "--pprof", "p.pb.gz", "--collapsed", "p.collapsed",
                              LEAVES_ITS_DIRECTORY, elsewhere, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("heatline profile of ")
    assert os.listdir(elsewhere) == []
    profile = decode(profile_message, (tmp_path / "p.pb.gz").read_bytes())
    time_index = [profile.string_table[t.type] for t in profile.sample_type].index("time")
    pprof_micros = sum(sample.value[time_index] for sample in profile.sample) / 1000
    lines = read_collapsed((tmp_path / "p.collapsed").read_text())
    assert abs(sum(number for _, number in lines) - pprof_micros) <= len(profile.sample) * ROUNDING_PER_STACK


def test_a_runs_exports_are_made_from_the_document_it_reports(heatline, tmp_path, profile_message):
    result = heatline.command("--json", "--pprof", "p.pb.gz", "--speedscope", "p.speedscope.json",
                              LEAVES_ITS_DIRECTORY, tmp_path, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    document = json.loads(result.stdout)
    assert_pprof_is_the_document(decode(profile_message, (tmp_path / "p.pb.gz").read_bytes()), document)
    file = json.loads((tmp_path / "p.speedscope.json").read_text())
    time_profile = file["profiles"][file["activeProfileIndex"]]
    assert time_profile["endValue"] == sum(round(stack_value(entry, TIME.key) * 1e9)
                                           for entry in document["stacks"]["stacks"])


def test_view_writes_every_format_from_a_saved_profile(exported, profile_message):
    runner = exported["runner"]
    folder = runner.tmp_path / "view"
    folder.mkdir()
    result = runner.command("view", exported["paths"]["json"], "--pprof", "v.pb.gz",
                            "--speedscope", "v.json", "--collapsed", "v.txt", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("heatline profile of ")
    assert (folder / "v.pb.gz").read_bytes() == exported["paths"]["pprof"].read_bytes()
    assert (folder / "v.json").read_text() == exported["paths"]["speedscope"].read_text()
    assert (folder / "v.txt").read_text() == exported["paths"]["collapsed"].read_text()


def test_an_unwritable_export_path_is_a_usage_error_before_the_program_runs(heatline, tmp_path):
    for option in ("--pprof", "--speedscope", "--collapsed"):
        result = heatline.command(option, "/nonexistent/d/p", LEAVES_ITS_DIRECTORY, tmp_path)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.strip().splitlines()[-1] == \
            f"heatline: error: {option} /nonexistent/d/p: no such directory /nonexistent/d"


def test_a_memory_value_for_collapsed_under_cpu_only_is_a_usage_error(heatline, tmp_path):
    result = heatline.command("--cpu-only", "--collapsed", tmp_path / "c", "--collapsed-value", "alloc",
                              LEAVES_ITS_DIRECTORY, tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "--collapsed-value alloc needs memory" in result.stderr.splitlines()[-1]


def test_an_export_that_cannot_be_written_at_the_end_keeps_the_exit_status(heatline, tmp_path):
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    result = heatline.command("--cpu-only", "--pprof", doomed / "p.pb.gz", LEAVES_ITS_DIRECTORY,
                              tmp_path, doomed)
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("heatline profile of ")
    assert result.stderr.strip().splitlines() == [
        f"heatline: cannot write {doomed / 'p.pb.gz'}: No such file or directory"]


def without_stacks(text: str) -> str:
    """The document as written before stacks existed."""
    return json.dumps({key: value for key, value in json.loads(text).items() if key != "stacks"})


def with_a_frame_out_of_range(text: str) -> str:
    document = json.loads(text)
    document["stacks"]["stacks"][0]["frames"].append(len(document["stacks"]["frames"]))
    return json.dumps(document)


@pytest.mark.parametrize("spoil, message", [
    (None, "no such file"),
    (lambda text: "not json", "not a heatline profile"),
    (without_stacks, "the profile has no call stacks"),
    (with_a_frame_out_of_range, "not a complete heatline profile"),
])
def test_view_of_a_bad_profile_with_an_export_says_why_in_one_line_and_writes_nothing(
        exported, spoil, message):
    runner = exported["runner"]
    bad = runner.new_path("bad")
    if spoil is not None:
        bad.write_text(spoil(exported["paths"]["json"].read_text()))
    outfile = runner.new_path("out", ".pb.gz")
    result = runner.command("view", bad, "--pprof", outfile)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"heatline: {bad}: "), result.stderr
    assert message in result.stderr
    assert not outfile.exists()


def test_view_of_a_cpu_only_profile_refuses_a_memory_value_for_collapsed_in_one_line(heatline, tmp_path):
    run = heatline.profile(LEAVES_ITS_DIRECTORY, tmp_path, options=("--cpu-only",))
    saved = heatline.new_path("cpu-only")
    saved.write_text(json.dumps(run.profile.document))
    outfile = tmp_path / "alloc.collapsed"
    result = heatline.command("view", saved, "--collapsed", outfile, "--collapsed-value", "alloc")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"heatline: {saved}: the profile has no memory figures (--cpu-only), "
                             "so --collapsed-value alloc has nothing to show\n")
    assert not outfile.exists()
