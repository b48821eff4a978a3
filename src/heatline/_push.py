"""Pushes to Grafana Pyroscope from the `heatline` command (--push, --push-interval), and the
sidecar process that pushes while the program runs: `python -m heatline._push SPEC`.

Nothing of heatline's may run Python inside the profiled process while the program runs, so the
pushes during the run come from a process of their own. The launcher (cli.py) makes a private
directory (mode 0700), has its engine write its document there as PID.json (the engine rewrites
it every second or more while the program runs, as a child process's), and starts the sidecar
with an environment that no longer names the run, so that it is not profiled itself. Every
interval the sidecar reads that document and the run's children's, merged as at the end
(heatline._processes), takes away what it pushed before (report/push.py: stacks' sums), and
pushes the rest, from where the last push ended until the document's time. What it has pushed
is written in the directory (`pushed.json`). When the program ends, the launcher stops the
sidecar (a push under way is let finish), writes its report, and pushes what is left of the
final document, so that the pushes cover the run exactly. The sidecar ends by itself when the
launcher is gone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Optional

from . import _processes
from .report import pprof, push
from .report.push import Sums, Target

STATE_FILE = "pushed.json"
# How often the sidecar looks at the clock, whether it was asked to stop and whether its
# launcher is still there.
SIDECAR_POLL_S = 0.1
# Beyond the push timeout, how long the launcher waits for the sidecar to end before killing it.
SIDECAR_STOP_GRACE_S = 2.0


class Pushed:
    """What the pushes so far covered: up to which time, and each stack's sums."""

    def __init__(self, until_unix: int, elapsed_s: float, sums: Optional[Sums] = None) -> None:
        self.until_unix = until_unix
        self.elapsed_s = elapsed_s
        self.sums: Sums = {} if sums is None else sums

    def save(self, path: str) -> None:
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump({"until_unix": self.until_unix, "elapsed_s": self.elapsed_s,
                       "sums": [[key, values] for key, values in self.sums.items()]}, file)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str, start: "Pushed") -> "Pushed":
        """The state saved in `path`; `start` when nothing was pushed yet."""
        try:
            with open(path, encoding="utf-8") as file:
                saved = json.load(file)
        except (OSError, ValueError):
            return start
        sums = {tuple(tuple(frame) for frame in key): values for key, values in saved["sums"]}
        return cls(saved["until_unix"], saved["elapsed_s"], sums)


def push_since(target: Target, document: dict[str, Any], pushed: Pushed, start_unix: float,
               *, empty_too: bool) -> tuple[Pushed, Optional[str]]:
    """Pushes what `document` holds beyond `pushed`, from pushed.until_unix to the document's
    time; returns what is pushed after it, and why the push failed (None: it did not). Nothing
    new is no push unless `empty_too` (the run's last)."""
    delta, sums = push.since(document, pushed.sums)
    if not delta["stacks"]["stacks"] and not empty_too:
        return pushed, None
    delta["elapsed_s"] = max(0.0, document["elapsed_s"] - pushed.elapsed_s)
    until_unix = max(pushed.until_unix, int(start_unix + document["elapsed_s"]))
    reason = push.send(target, pprof.encode(delta), pushed.until_unix, until_unix)
    if reason is not None:
        return pushed, reason
    return Pushed(until_unix, document["elapsed_s"], sums), None


# ---- the launcher's side ------------------------------------------------------------------------

class Pusher:
    """The pushes of one `heatline` run: the sidecar (with an interval) and the last push."""

    def __init__(self, target: Target, interval_s: Optional[float]) -> None:
        self.target = target
        self.interval_s = interval_s
        self.start_unix = time.time()
        self.directory: Optional[str] = None
        self.sidecar: Optional[subprocess.Popen[bytes]] = None
        if interval_s is not None:
            # The run directories' prefix and pid: a launcher that dies leaves it to the next
            # run's clean-up (heatline._processes.remove_abandoned).
            self.directory = tempfile.mkdtemp(prefix=f"{_processes.DIR_PREFIX}{os.getpid()}-push-")

    def start_sidecar(self, run_directory: Optional[str]) -> None:
        """Starts pushing every interval; the engine is writing this process's document into
        self.directory by now."""
        assert self.directory is not None and self.interval_s is not None
        spec = {"url": self.target.url, "app": self.target.app, "labels": self.target.labels,
                "timeout_s": self.target.timeout_s, "interval_s": self.interval_s,
                "launcher_pid": os.getpid(), "start_unix": self.start_unix,
                "document": os.path.join(self.directory, f"{os.getpid()}.json"),
                "run_directory": run_directory, "state": os.path.join(self.directory, STATE_FILE)}
        self.sidecar = subprocess.Popen([sys.executable, "-m", "heatline._push", json.dumps(spec)],
                                        env=unprofiled_environment(), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL)

    def stop_sidecar(self) -> None:
        """Before the run's documents are collected: the sidecar must not read them half gone."""
        if self.sidecar is None:
            return
        self.sidecar.send_signal(signal.SIGTERM)
        try:
            self.sidecar.wait(self.target.timeout_s + SIDECAR_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.sidecar.kill()
            self.sidecar.wait()

    def push_rest(self, document: dict[str, Any]) -> None:
        """The last push: the whole run, or what the sidecar has not pushed of it."""
        start = Pushed(int(self.start_unix), 0.0)
        pushed = start if self.directory is None else Pushed.load(os.path.join(self.directory, STATE_FILE), start)
        _, reason = push_since(self.target, document, pushed, self.start_unix, empty_too=True)
        if reason is not None:
            print(push.failure_line(self.target, reason), file=sys.stderr)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def unprofiled_environment() -> dict[str, str]:
    """This process's environment without the run in it: a process started with it is not
    profiled (heatline/_hook is off PYTHONPATH, HEATLINE_RUN unset)."""
    env = dict(os.environ)
    env.pop(_processes.ENV, None)
    paths = [path for path in env.get("PYTHONPATH", "").split(os.pathsep)
             if path and os.path.abspath(path) != _processes.HOOK_DIR]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    else:
        env.pop("PYTHONPATH", None)
    return env


# ---- the sidecar ---------------------------------------------------------------------------------

def current_document(spec: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The run's document as its processes last wrote them, merged; None before the first."""
    try:
        with open(spec["document"], encoding="utf-8") as file:
            document = json.load(file)
    except (OSError, ValueError):
        return None
    children = _processes.collect(spec["run_directory"]) if spec["run_directory"] else []
    return _processes.merge(document, children) if children else document


def sidecar(spec: dict[str, Any]) -> None:
    target = Target(spec["url"], spec["app"], tuple(tuple(label) for label in spec["labels"]), spec["timeout_s"])
    stopping = []
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the program's; the launcher stops us
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    pushed = Pushed(int(spec["start_unix"]), 0.0)
    last_reason = None
    next_push = time.monotonic() + spec["interval_s"]
    while not stopping and os.getppid() == spec["launcher_pid"]:
        time.sleep(max(0.0, min(SIDECAR_POLL_S, next_push - time.monotonic())))
        if time.monotonic() < next_push:
            continue
        next_push = max(next_push + spec["interval_s"], time.monotonic())
        document = current_document(spec)
        if document is None or document["elapsed_s"] <= pushed.elapsed_s:
            continue
        pushed, reason = push_since(target, document, pushed, spec["start_unix"], empty_too=False)
        if reason is None:
            pushed.save(spec["state"])
        elif reason != last_reason:
            # The same failure again (the server still down) is said once, until a push works.
            print(push.failure_line(target, reason), file=sys.stderr, flush=True)
        last_reason = reason


if __name__ == "__main__":
    sidecar(json.loads(sys.argv[1]))
