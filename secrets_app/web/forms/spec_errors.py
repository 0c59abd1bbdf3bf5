"""Put the renderer's spec problems on the form fields that caused them.

The spec checks mirror the CSI provider's own; the form runs them after its
field checks so that what would fail in the cluster is refused here, on the
right field, before anything is saved.
"""

from __future__ import annotations

import re

from django import forms

from secrets_app.rendering import SpecProblem

_SECRET_PATH = re.compile(r"^secrets\[(?P<index>\d+)\](?:\.(?P<rest>.*))?$")

# Top-level spec path (its first segment) -> request form field.
_REQUEST_FIELDS = {
    "service": "service",
    "namespace": "namespace",
    "service_account": "service_account",
    "role_name": "role_name",
    "mount_path": "mount_path",
    "workload.kind": "workload_kind",
    "workload.name": "workload_name",
    "workload.containers": "containers",
}

# Secret spec path (after "secrets[i].") -> secret form field.
_SECRET_FIELDS = {
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


def _field_for(path: str, table: dict[str, str]) -> str | None:
    # Longest known prefix wins: "sync.keys[1].env" -> "sync.keys".
    bare = re.sub(r"\[\d+\]", "", path)
    for prefix in sorted(table, key=len, reverse=True):
        if bare == prefix or bare.startswith(prefix + "."):
            return table[prefix]
    return None


def attach_spec_problems(
    problems: list[SpecProblem], form: forms.Form, secret_forms: list[forms.Form]
) -> None:
    for problem in problems:
        match = _SECRET_PATH.match(problem.path)
        if match and int(match["index"]) < len(secret_forms):
            target = secret_forms[int(match["index"])]
            field = _field_for(match["rest"] or "", _SECRET_FIELDS)
        else:
            target, field = form, _field_for(problem.path, _REQUEST_FIELDS)
        message = problem.message if field else f"{problem.path or 'spec'}: {problem.message}"
        if field and field in target.errors and message in target.errors[field]:
            continue
        target.add_error(field, message)
