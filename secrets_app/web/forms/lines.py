"""Small line formats for the lists a secret carries, so the form stays one
page without JavaScript:

- JSON keys to mount as files (jmesPath), one per line: ``PATH as FILE``,
  e.g. ``username as db-username``.
- Keys of the synced Kubernetes Secret, one per line:
  ``[FILE ->] KEY [as ENV_VAR]``, e.g. ``rds_password as DB_PASSWORD`` (the
  file defaults to the secret's alias) or ``db-username -> username as DB_USER``.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_JMES_LINE = re.compile(r"\A(?P<path>.+?)\s+as\s+(?P<alias>\S+)\Z")
_SYNC_LINE = re.compile(r"\A(?:(?P<object>\S+)\s*->\s*)?(?P<key>\S+)(?:\s+as\s+(?P<env>\S+))?\Z")


def _lines(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate((text or "").splitlines(), start=1)
        if line.strip()
    ]


def parse_jmes_lines(text: str) -> list[dict[str, str]]:
    entries, errors = [], []
    for number, line in _lines(text):
        match = _JMES_LINE.match(line)
        if not match:
            errors.append(
                f"Line {number}: expected 'PATH as FILE', e.g. 'username as db-username'."
            )
            continue
        entries.append({"path": match["path"].strip(), "alias": match["alias"]})
    if errors:
        raise ValidationError(errors)
    return entries


def parse_sync_lines(text: str, *, default_object: str) -> list[dict[str, str]]:
    entries, errors = [], []
    for number, line in _lines(text):
        match = _SYNC_LINE.match(line)
        if not match:
            errors.append(
                f"Line {number}: expected '[FILE ->] KEY [as ENV_VAR]', "
                "e.g. 'rds_password as DB_PASSWORD'."
            )
            continue
        entry = {"object": match["object"] or default_object, "key": match["key"]}
        if match["env"]:
            entry["env"] = match["env"]
        entries.append(entry)
    if errors:
        raise ValidationError(errors)
    return entries


def jmes_lines(entries: list[dict[str, str]]) -> str:
    """``parse_jmes_lines`` the other way: stored entries as the form shows them."""
    return "\n".join(f"{e['path']} as {e['alias']}" for e in entries or [])


def sync_lines(entries: list[dict[str, str]], *, default_object: str) -> str:
    """``parse_sync_lines`` the other way; the file is left out when it is
    ``default_object`` (the secret's own file)."""
    lines = []
    for e in entries or []:
        line = e["key"]
        if e.get("object") and e["object"] != default_object:
            line = f"{e['object']} -> {line}"
        if e.get("env"):
            line = f"{line} as {e['env']}"
        lines.append(line)
    return "\n".join(lines)
