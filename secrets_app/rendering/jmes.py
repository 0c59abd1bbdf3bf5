"""JMES paths as the AWS provider wants them.

A requester gives either a JSON key (``password``, ``db-password``) or a
JMESPath expression (``db.password``, ``hosts[0]``). JMESPath only accepts
unquoted identifiers made of letters, digits and ``_``; anything else, a key
with a hyphen above all, must be a quoted identifier (``"db-password"``, with
the double quotes inside the string). The provider's README asks for exactly
that (``'"name-with-hyphen"'`` in YAML).

Rules, so the result is predictable:

* an identifier (``[A-Za-z_][A-Za-z0-9_]*``) is kept as is;
* a string with no JMESPath syntax at all is one JSON key and gets quoted;
* dot-separated keys with no other syntax are a path: each segment that is
  not an identifier is quoted (``db.user-name`` -> ``db."user-name"``);
* anything else is a JMESPath expression, kept as written (it must compile).
"""

from __future__ import annotations

import json
import re
import warnings

import jmespath
from jmespath.exceptions import JMESPathError

from secrets_app.rendering.jmes_words import explain

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Characters with a meaning in JMESPath besides '.', which separates keys.
_SYNTAX = frozenset("[]|*@(){}&!<>=,'`\"?:$")
MAX_PATH = 1024


def quote_key(key: str) -> str:
    """A JMESPath quoted identifier: JSON string escapes, per the spec's grammar."""
    return json.dumps(key, ensure_ascii=False)


def normalize_path(raw: str) -> str:
    """The path to put in ``jmesPath[].path`` for what the requester typed."""
    if _IDENTIFIER.match(raw):
        return raw
    if _SYNTAX.isdisjoint(raw):
        if "." not in raw:
            return quote_key(raw)
        segments = raw.split(".")
        if all(segments):
            return ".".join(s if _IDENTIFIER.match(s) else quote_key(s) for s in segments)
    return raw


def check_path(raw: str) -> str | None:
    """Why the path cannot be used, in words (``explain``), or None."""
    if not raw:
        return "The JMES path is required."
    if "../" in raw:
        # The provider's own wording, so the catalogue recognises it.
        return f"path can not contain ../: {raw} (a JSON path may not contain '../')"
    if len(raw) > MAX_PATH:
        return f"The JMES path must be at most {MAX_PATH} characters."
    try:
        with warnings.catch_warnings():
            # jmespath warns about old-style `literal` strings; the provider's
            # Go library may not accept them, so they count as errors here.
            warnings.simplefilter("error", PendingDeprecationWarning)
            jmespath.compile(normalize_path(raw))
    except JMESPathError as exc:
        return explain(raw, getattr(exc, "lex_position", None))
    except PendingDeprecationWarning:
        return (
            f"The key path `{raw}` has a literal in backticks that is not JSON: write a text "
            "value in single quotes ('text'), or as JSON in backticks (`\"text\"`)."
        )
    return None
