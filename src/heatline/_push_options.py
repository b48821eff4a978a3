"""What the command's push options take (--push, --app, --label, HEATLINE_PUSH_TIMEOUT): checked
as the command reads its options, before the program runs. Apart from report/push.py, which
sends, so that a run that pushes nothing does not import it.
"""

from __future__ import annotations

import math
import os
import re

# Seconds a push may take (connecting, sending, the answer) before it counts as failed; the
# environment variable sets another (tests use a short one for a server that never answers).
DEFAULT_TIMEOUT_S = 5.0
TIMEOUT_ENV = "HEATLINE_PUSH_TIMEOUT"
# Pyroscope's rules for the application name and label keys (its flameql checks: letters,
# digits, "_", "." and, in a name, "-"); "__name__" and every key starting with "__" are its own.
APP_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
LABEL_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
# A label value is written inside name={...}: the characters that delimit it are not allowed.
LABEL_VALUE_FORBIDDEN = re.compile(r"[{},=\s\"]")


def check_url(text: str) -> str:
    """The server's base URL (http or https, with a host); ValueError says what is wrong."""
    import urllib.parse

    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected the server's http:// or https:// URL, got {text!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"the URL must not have a query or fragment: {text!r}")
    return text


def check_app(text: str) -> str:
    if not APP_NAME.fullmatch(text):
        raise ValueError(f"application name {text!r}: letters, digits, '_', '.' and '-' only")
    return text


def parse_label(text: str) -> tuple[str, str]:
    """KEY=VALUE as Pyroscope takes it; ValueError says what is wrong."""
    key, equals, value = text.partition("=")
    if not equals:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    if not LABEL_KEY.fullmatch(key) or key.startswith("__"):
        raise ValueError(f"label key {key!r}: a letter or '_' first, then letters, digits, '_' and '.'; "
                         "not starting with '__' (Pyroscope's own)")
    if not value or LABEL_VALUE_FORBIDDEN.search(value):
        raise ValueError(f"label value {value!r} of {key}: not empty, and without spaces, quotes or {{}},=")
    return key, value


def timeout_from_environment() -> float:
    """HEATLINE_PUSH_TIMEOUT in seconds, or the default; ValueError when it is not a positive number."""
    text = os.environ.get(TIMEOUT_ENV)
    if text is None:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{TIMEOUT_ENV} must be a positive number of seconds, got {text!r}")
    return value
