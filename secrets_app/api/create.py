"""Filing a request through the API: the JSON (shape-checked by
``inputs.RequestCreateInput``) goes to the filing service as it is, and its
problems come back keyed like the JSON:
``{"namespace": [...], "secrets": [{"alias": [...]}, {}], "non_field_errors": [...]}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from secrets_app.models import AccessRequest
from secrets_app.requests.filing import FilingInvalid, Problem, request_file
from secrets_app.requests.filing.paths import field_of
from secrets_app.requests.filing.wording import for_api

NON_FIELD = "non_field_errors"


@dataclass
class Outcome:
    request: AccessRequest | None = None
    errors: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _as_lists(errors: Any, data: Any) -> Any:
    """DRF keys a list's item errors by index ({0: {...}}); the API answers
    with one entry per item, as for the service's problems: [{...}, {}]."""
    if isinstance(errors, dict) and errors and all(isinstance(k, int) for k in errors):
        items = data if isinstance(data, list) else []
        size = max(len(items), max(errors) + 1)
        if all(isinstance(e, list) for e in errors.values()):
            # Items of a list of names (containers): "item 2: ...".
            return [f"Item {i + 1}: {m}" for i, e in sorted(errors.items()) for m in e]
        return [
            _as_lists(errors.get(i, {}), items[i] if i < len(items) else None) for i in range(size)
        ]
    if isinstance(errors, dict):
        sub = data if isinstance(data, dict) else {}
        return {k: _as_lists(v, sub.get(k)) for k, v in errors.items()}
    return errors


def shape_errors(errors: dict[str, Any], data: Any) -> dict[str, Any]:
    """The input serializer's errors in the API's error format."""
    return _as_lists(errors, data)


def problem_errors(problems: Iterable[Problem], secret_count: int) -> dict[str, Any]:
    """The filing service's problems, keyed like the input, in the API's words."""
    errors: dict[str, Any] = {}
    per_secret: list[dict[str, list[str]]] = [{} for _ in range(secret_count)]
    for problem in problems:
        where = field_of(problem.path)
        message = for_api(problem.message)
        if where.secret is not None and where.secret < secret_count:
            name = where.name or NON_FIELD
            per_secret[where.secret].setdefault(name, []).append(message)
        else:
            name = where.name if where.name and where.name != "secrets" else NON_FIELD
            errors.setdefault(name, []).append(message)
    if any(per_secret):
        errors["secrets"] = per_secret
    return errors


def request_create_from_api(*, requester: AbstractBaseUser, data: dict[str, Any]) -> Outcome:
    """File the request, or say why not."""
    given = {name: value for name, value in data.items() if name != "submit"}
    try:
        filed = request_file(requester=requester, data=given, submit=data["submit"])
    except FilingInvalid as invalid:
        return Outcome(
            errors=problem_errors(invalid.problems, len(data["secrets"])),
            warnings=invalid.warnings,
        )
    return Outcome(request=filed.request, warnings=filed.checked.warnings)
