"""Where a problem is: paths in the request as filed.

A path names a field of the request the way the API's JSON does:
``namespace``, ``containers[1]``, ``secrets[1].alias``,
``secrets[0].sync_keys[2].env``; the empty path is the request as a whole.
The renderer reports its problems at paths in the binding spec
(``secrets[0].sync.keys[2].env``); ``from_spec`` says where that is in the
request, so every adapter (page, API, command) shows one vocabulary.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SECRET = re.compile(r"\Asecrets\[(?P<index>[0-9]+)\](?:\.(?P<rest>.*))?\Z", re.DOTALL)

# Spec path (without the "secrets[i]." prefix, its longest known start) ->
# request path. Anything under a known start keeps its tail:
# "workload.containers[1]" -> "containers[1]".
_TOP = {
    "service": "service",
    "namespace": "namespace",
    "service_account": "service_account",
    "name_prefix": "name_prefix",
    "name_suffix": "name_suffix",
    "role_name": "role_name",
    "mount_path": "mount_path",
    "workload.kind": "workload_kind",
    "workload.name": "workload_name",
    "workload.containers": "containers",
    "workload.restart_on_change": "restart_on_change",
    "secrets": "secrets",
}
_PER_SECRET = {
    "arn": "secret",
    "alias": "alias",
    "any_suffix": "any_suffix",
    "kms_key_arn": "kms_key_arn",
    "jmes": "jmes",
    "sync.secret_name": "sync_secret_name",
    "sync.type": "sync_secret_type",
    "sync.keys": "sync_keys",
    "sync": "sync_keys",
}


def _translate(path: str, table: dict[str, str]) -> str | None:
    for start in sorted(table, key=len, reverse=True):
        if path == start or path.startswith((start + ".", start + "[")):
            return table[start] + path[len(start) :]
    return None


def from_spec(spec_path: str) -> str | None:
    """The request path of a spec path, or None when the request has no
    such field (the cluster's record, the request's tags)."""
    match = _SECRET.match(spec_path)
    if match is None:
        return _translate(spec_path, _TOP)
    base = f"secrets[{match['index']}]"
    if not match["rest"]:
        return base
    rest = _translate(match["rest"], _PER_SECRET)
    return f"{base}.{rest}" if rest else base


class Field(NamedTuple):
    """The form field a path falls in: ``Field("namespace")``,
    ``Field("alias", secret=1)``, ``Field("", secret=0)`` for a secret as a
    whole, ``Field("")`` for the request as a whole."""

    name: str
    secret: int | None = None


def field_of(path: str) -> Field:
    match = _SECRET.match(path)
    if match is not None:
        rest = match["rest"] or ""
        return Field(re.split(r"[.\[]", rest, maxsplit=1)[0], secret=int(match["index"]))
    return Field(re.split(r"[.\[]", path, maxsplit=1)[0])


def is_under(path: str, start: str) -> bool:
    """``path`` is ``start`` or a part of it (``secrets[0].alias`` is under ``secrets[0]``)."""
    return path == start or path.startswith((start + ".", start + "["))
