"""Reading a saved profile document from a file, for `heatline view` and `heatline diff`.

A file that is missing, unreadable, not JSON, cut short, or of a schema this heatline does not
read raises DocumentError with one line a user can act on; nothing else is checked here (the
document's shape is docs/profile-format.md's, written by the engine).
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_NAME = "heatline-profile"
SCHEMA_VERSION = 1
SCHEMA = f"{SCHEMA_NAME}/{SCHEMA_VERSION}"
# What every version-1 document holds (fields added later within the version may be absent).
REQUIRED_FIELDS = ("program", "argv", "elapsed_s", "samples", "totals", "files")


class DocumentError(Exception):
    """A profile file that cannot be shown; str() is the one line to print."""


def load_document(path: str) -> dict[str, Any]:
    """The profile document saved in `path` (by `--json`, the API or a merged run)."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DocumentError(f"{path}: is a directory, not a profile file") from None
    except OSError as error:
        raise DocumentError(f"{path}: cannot read it: {error.strerror}") from None
    except UnicodeDecodeError:
        raise DocumentError(f"{path}: not a heatline profile (not text; expected the JSON that "
                            "`heatline --json` writes)") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if not text.strip():
            raise DocumentError(f"{path}: empty file, not a heatline profile") from None
        # Cut short: the error is at the end, in an open string, or inside the last token (a
        # number or a word cut mid-way, such as "3.0e" or "nu": nothing after it closes anything).
        tail = text[error.pos:].rstrip()
        if (not tail or error.msg.startswith("Unterminated string")
                or not any(mark in tail for mark in ',:]}"' + " \n\t")):
            raise DocumentError(f"{path}: the profile is truncated (the JSON ends at byte "
                                f"{len(text.encode())} before it is complete)") from None
        raise DocumentError(f"{path}: not a heatline profile (not JSON: {error.msg} at line "
                            f"{error.lineno}, column {error.colno})") from None
    schema = document.get("schema") if isinstance(document, dict) else None
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_NAME + "/"):
        raise DocumentError(f"{path}: not a heatline profile (JSON without "
                            f'"schema": "{SCHEMA}")')
    if schema != SCHEMA:
        raise DocumentError(f"{path}: written in schema {schema}, and this heatline reads "
                            f"{SCHEMA} only")
    missing = [field for field in REQUIRED_FIELDS if field not in document]
    if missing:
        raise DocumentError(f"{path}: not a complete heatline profile (no field {missing[0]!r})")
    return document
