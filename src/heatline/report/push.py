"""Pushing profiles to Grafana Pyroscope: where (a Target: the server, the application's name,
its labels), what (the document's stacks as pprof, less what was pushed before), and the HTTP
request of Pyroscope's ingest API:

    POST URL/ingest?name=APP{k=v,...}&from=UNIX&until=UNIX&format=pprof&spyName=heatline

with the gzip-compressed pprof (report/pprof.py) as the body. Only sums travel: Pyroscope adds
up what it receives over time, so the peak has no place in a push (pprof.encode leaves it out).

A push that fails (refused, timed out, an HTTP error) returns its reason as one line; it never
raises, and the caller says it on stderr: the program's run does not depend on the server.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, NamedTuple, Optional

from .pprof import NOT_ADDITIVE
from .stacks import VALUES, frame_key

SPY_NAME = "heatline"
# What a push carries of each stack: what pprof carries, the values that add up over time.
SUMMED_KEYS = tuple(value.key for value in VALUES if value.key not in NOT_ADDITIVE)
# A stack's identity across documents: its frames' identities, root first.
StackKey = tuple[tuple[Any, ...], ...]
Sums = dict[StackKey, dict[str, float]]


class Target(NamedTuple):
    """A Pyroscope server and what the pushes are filed under there."""
    url: str
    app: str
    labels: tuple[tuple[str, str], ...]
    timeout_s: float

    @property
    def name(self) -> str:
        """The `name` of the ingest request: the application and its labels, APP{k=v,...}."""
        if not self.labels:
            return self.app
        return self.app + "{" + ",".join(f"{key}={value}" for key, value in self.labels) + "}"

    def ingest_url(self, from_unix: int, until_unix: int) -> str:
        query = urllib.parse.urlencode({"name": self.name, "from": from_unix, "until": until_unix,
                                        "format": "pprof", "spyName": SPY_NAME})
        return f"{self.url.rstrip('/')}/ingest?{query}"


def send(target: Target, body: bytes, from_unix: int, until_unix: int) -> Optional[str]:
    """POSTs one pprof profile; None when the server took it, else why not, in one line."""
    import urllib.error  # here: only a push needs them
    import urllib.request

    request = urllib.request.Request(target.ingest_url(from_unix, until_unix), data=body, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=target.timeout_s) as answer:
            answer.read()
        return None
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.reason}"
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return f"no answer within {target.timeout_s:g} s"
        return str(getattr(reason, "strerror", None) or reason)
    except TimeoutError:
        return f"no answer within {target.timeout_s:g} s"
    except OSError as error:
        return error.strerror or str(error)


def failure_line(target: Target, reason: str) -> str:
    return f"heatline: push to {target.url} failed: {reason}"


# ---- what was pushed, and what is new -------------------------------------------------------

def stack_sums(doc: dict[str, Any]) -> Sums:
    """Each stack's summed values (SUMMED_KEYS; 0 when not measured), by its frames' identities."""
    section = doc.get("stacks") or {}
    frames = [frame_key(frame) for frame in section.get("frames", [])]
    sums: Sums = {}
    for entry in section.get("stacks", []):
        key = tuple(frames[index] for index in entry["frames"])
        values = sums.setdefault(key, dict.fromkeys(SUMMED_KEYS, 0.0))
        for value in SUMMED_KEYS:
            values[value] += entry.get(value) or 0
    return sums


def since(doc: dict[str, Any], pushed: Sums) -> tuple[dict[str, Any], Sums]:
    """The document with its stacks less what `pushed` holds (a stack that gained nothing is left
    out), and what will have been pushed once it is. A value smaller than pushed (a writer's
    rounding) gives 0, and what was pushed stays: it is never taken back."""
    now = stack_sums(doc)
    frame_of = {frame_key(frame): frame for frame in (doc.get("stacks") or {}).get("frames", [])}
    frames: list[dict[str, Any]] = []
    index: dict[tuple[Any, ...], int] = {}
    stacks = []
    after: Sums = dict(pushed)
    for key, values in now.items():
        before = pushed.get(key, {})
        delta = {value: max(0.0, values[value] - before.get(value, 0.0)) for value in SUMMED_KEYS}
        after[key] = {value: before.get(value, 0.0) + delta[value] for value in SUMMED_KEYS}
        if not any(delta.values()):
            continue
        for identity in key:
            if identity not in index:
                index[identity] = len(frames)
                frames.append(frame_of[identity])
        delta["samples"] = round(delta["samples"])
        stacks.append({"frames": [index[identity] for identity in key], **delta, "peak_mb": None})
    section = dict(doc.get("stacks") or {}, frames=frames, stacks=stacks)
    return dict(doc, stacks=section), after
