"""Pushes to Grafana Pyroscope (--push, --app, --label, --push-interval; heatline.report.push and
heatline._push), against a server on 127.0.0.1 that each test starts: it records every request,
and the tests decode the bodies with the protobuf runtime (test_formats' descriptor of
profile.proto) and compare names, labels, intervals and values with the profile the run wrote.
"""

from __future__ import annotations

import http.server
import json
import math
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from conftest import HEATLINE, PROGRAMS, Runner, assert_no_heatline_traceback
from test_formats import decode, profile_message  # noqa: F401 (profile_message: a fixture)

from heatline.report.stacks import EXPORT_VALUES, iter_stacks

BUSY = PROGRAMS / "busy_for.py"
WORK = PROGRAMS / "work_by_size.py"
# A push that never gets an answer fails after this (HEATLINE_PUSH_TIMEOUT), not the default 5 s.
SHORT_TIMEOUT_S = 0.5
# pprof carries whole nanoseconds and bytes: each stack of each push rounds by half a unit.
ROUNDING_PER_STACK = 0.5
# Pyroscope's from and until are whole seconds (floored): the run's start and the document's
# end are each within one second of them.
UNIX_SECONDS_ROUNDING = 1.0
# The engine rewrites the documents a push is made of every second or more (adaptively): a run
# of RUN_S seconds pushed every second gives at least this many pushes during the run, and one
# at its end.
RUN_S = 3.0
LEAST_INTERVAL_PUSHES = 2


@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: bytes


class Server:
    """An HTTP server on 127.0.0.1 that records POSTs and answers with `status`; with
    `status=None` it never answers (until the test ends)."""

    def __init__(self, status: Optional[int] = 200) -> None:
        self.status = status
        self.received: list[Received] = []
        self.release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                server.received.append(Received(url.path, query, self.rfile.read(length)))
                if server.status is None:
                    server.release.wait()
                    return
                self.send_response(server.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    started = Server()
    yield started
    started.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def pushed_values(profile) -> dict[str, int]:
    """Each sample type's values summed over the samples of a decoded pprof profile."""
    strings = profile.string_table
    names = [strings[t.type] for t in profile.sample_type]
    return {name: sum(sample.value[i] for sample in profile.sample) for i, name in enumerate(names)}


def document_values(document: dict[str, Any]) -> dict[str, float]:
    """What pprof carries of a document, summed over its stacks, in pprof's units."""
    memory = document["memory_sampling_rate_bytes"] is not None
    values = [value for value in EXPORT_VALUES if value.name != "peak" and (memory or not value.memory)]
    return {value.name: sum(stack.value(value.key) for stack in iter_stacks(document)) * value.scale
            for value in values}


def test_the_whole_run_is_pushed_at_its_end_with_name_labels_and_interval(heatline: Runner, server: Server,
                                                                          profile_message) -> None:
    before = time.time()
    run = heatline.profile(WORK, "4", options=("--push", server.url, "--app", "shop.api",
                                               "--label", "env=staging", "--label", "region=eu-1"))
    after = time.time()
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    document = run.profile.document
    (request,) = server.received
    assert request.path == "/ingest"
    assert request.query["name"] == "shop.api{env=staging,region=eu-1}"
    assert request.query["format"] == "pprof" and request.query["spyName"] == "heatline"
    start, end = int(request.query["from"]), int(request.query["until"])
    assert math.floor(before) <= start <= after
    assert abs((end - start) - document["elapsed_s"]) <= UNIX_SECONDS_ROUNDING

    profile = decode(profile_message, request.body)
    pushed = pushed_values(profile)
    expected = document_values(document)
    assert "peak" not in pushed, "a peak does not add up over time: it is never pushed"
    assert pushed.keys() == expected.keys()
    margin = ROUNDING_PER_STACK * len(document["stacks"]["stacks"])
    for name, value in expected.items():
        assert abs(pushed[name] - value) <= margin, (name, pushed[name], value)
    assert expected["time"] > 0 and expected["alloc"] > 0


class NeverAnswers(Server):
    def __init__(self) -> None:
        super().__init__(status=None)


@pytest.mark.parametrize("failure", ["refused", "HTTP 500", "no answer"])
def test_a_failed_push_is_one_line_and_changes_nothing_else(heatline: Runner, failure: str) -> None:
    server = {"refused": None, "HTTP 500": Server(500), "no answer": NeverAnswers()}[failure]
    url = server.url if server else closed_port_url()
    try:
        started = time.monotonic()
        run = heatline.profile(PROGRAMS / "exits_with.py", "3", options=("--push", url, "--app", "demo"),
                               env=environment(HEATLINE_PUSH_TIMEOUT=str(SHORT_TIMEOUT_S)))
        took_s = time.monotonic() - started
    finally:
        if server:
            server.close()
    assert run.returncode == 3, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"heatline: push to {url} failed: "), run.stderr
    assert {"refused": "refused", "HTTP 500": "HTTP 500", "no answer": "no answer within 0.5 s"}[failure] in lines[0]
    assert_no_heatline_traceback(run.stderr)
    run.profile.assert_well_formed()
    if failure == "no answer":
        assert took_s < SHORT_TIMEOUT_S + 10, "the push gave up at its timeout"


@pytest.mark.parametrize("options, message", [
    (("--push", "http://127.0.0.1:1"), "--push needs --app"),
    (("--app", "demo"), "go with --push"),
    (("--push", "localhost:4040", "--app", "demo"), "http:// or https://"),
    (("--push", "http://127.0.0.1:1", "--app", "my app"), "application name"),
    (("--push", "http://127.0.0.1:1", "--app", "demo", "--label", "__name__=x"), "label key"),
    (("--push", "http://127.0.0.1:1", "--app", "demo", "--label", "env"), "KEY=VALUE"),
    (("--push", "http://127.0.0.1:1", "--app", "demo", "--label", "env=a,b"), "label value"),
    (("--push", "http://127.0.0.1:1", "--app", "demo", "--label", "env=a", "--label", "env=b"), "twice"),
    (("--push", "http://127.0.0.1:1", "--app", "demo", "--push-interval", "0.5"), "--push-interval must be"),
])
def test_push_options_are_checked_before_the_program_runs(heatline: Runner, options: tuple, message: str) -> None:
    result = heatline.command(*options, BUSY, "0")
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "ready" not in result.stdout
    assert_no_heatline_traceback(result.stderr)


def test_a_bad_push_timeout_in_the_environment_is_a_usage_error(heatline: Runner) -> None:
    result = heatline.command("--push", "http://127.0.0.1:1", "--app", "demo", BUSY, "0",
                              env=environment(HEATLINE_PUSH_TIMEOUT="soon"))
    assert result.returncode == 2 and "HEATLINE_PUSH_TIMEOUT" in result.stderr, result.stderr
    assert "ready" not in result.stdout


@pytest.mark.parametrize("processes", ["one process", "with a child"])
def test_pushes_each_interval_cover_the_run_and_add_up_to_it(heatline: Runner, server: Server,
                                                             profile_message, processes: str) -> None:
    child = ("child",) if processes == "with a child" else ()
    run = heatline.profile(BUSY, str(RUN_S), "5", *child,
                           options=("--push", server.url, "--app", "svc", "--push-interval", "1"))
    assert run.returncode == 5, run.stderr
    assert run.stderr == ""
    document = run.profile.document
    assert len(document["processes"]) == 1 + len(child)
    received = server.received
    assert len(received) >= LEAST_INTERVAL_PUSHES + 1, [r.query for r in received]
    intervals = [(int(r.query["from"]), int(r.query["until"])) for r in received]
    for (_, until), (start, _) in zip(intervals, intervals[1:]):
        assert start == until, intervals
    assert all(start <= until for start, until in intervals), intervals
    assert abs((intervals[-1][1] - intervals[0][0]) - document["elapsed_s"]) <= UNIX_SECONDS_ROUNDING, intervals

    totals: dict[str, int] = {}
    stacks = 0
    for request in received:
        profile = decode(profile_message, request.body)
        stacks += len(profile.sample)
        for name, value in pushed_values(profile).items():
            totals[name] = totals.get(name, 0) + value
    expected = document_values(document)
    assert totals.keys() == expected.keys()
    for name, value in expected.items():
        assert abs(totals[name] - value) <= ROUNDING_PER_STACK * stacks, (name, totals[name], value)
    assert expected["time"] > 0 and expected["alloc"] > 0


def sidecars_of(launcher_pid: int) -> list[int]:
    """The pids of the push sidecars started by `launcher_pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"heatline._push" in words and f'"launcher_pid": {launcher_pid},'.encode() in b" ".join(words):
            found.append(int(entry.name))
    return found


# A sidecar looks for its launcher every 0.1 s; this leaves room for a loaded machine.
SIDECAR_END_WITHIN_S = 5.0


def test_the_sidecar_ends_when_its_launcher_is_killed(server: Server, installed_heatline: Path) -> None:
    launcher = subprocess.Popen([str(HEATLINE), "--push", server.url, "--app", "svc", "--push-interval", "1",
                                 "--json", "--outfile", os.devnull, str(BUSY), "60"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert launcher.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + SIDECAR_END_WITHIN_S
        while not sidecars_of(launcher.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        (sidecar,) = sidecars_of(launcher.pid)
        os.kill(launcher.pid, signal.SIGKILL)  # the launcher alone: the sidecar is in its group
        launcher.wait()
        deadline = time.monotonic() + SIDECAR_END_WITHIN_S
        while sidecars_of(launcher.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not sidecars_of(launcher.pid), f"sidecar {sidecar} outlived its launcher"
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
