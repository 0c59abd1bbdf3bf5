"""Editing a draft through the API: ``PUT`` gives the whole request again
(as ``POST`` files one), ``PATCH`` only the keys to change (``secrets``, if
given, is the whole new list). Either way the body is checked for shape like
a new request and judged by the filing service (``filing.request_edit``),
and its problems come back keyed like the JSON (``create.problem_errors``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from secrets_app.api.create import Outcome, problem_errors
from secrets_app.models import AccessRequest
from secrets_app.requests.drafts import filed_input
from secrets_app.requests.filing import FilingInvalid, request_edit


def edit_body(draft: AccessRequest, given: Any, *, partial: bool) -> Any:
    """What the input serializer checks: the body, or for a PATCH the
    draft's values with the given keys replaced."""
    if partial and isinstance(given, dict):
        return {**filed_input(draft), **given}
    return given


def request_edit_from_api(
    *, editor: AbstractBaseUser, request_id: int, data: dict[str, Any]
) -> Outcome:
    """Save the draft's new values, or say why not (``WorkflowError`` for a
    request ``editor`` may not edit, or no longer a draft)."""
    given = {name: value for name, value in data.items() if name != "submit"}
    try:
        filed = request_edit(
            editor=editor, request_id=request_id, data=given, submit=data["submit"]
        )
    except FilingInvalid as invalid:
        return Outcome(
            errors=problem_errors(invalid.problems, len(data["secrets"])),
            warnings=invalid.warnings,
        )
    return Outcome(request=filed.request, warnings=filed.checked.warnings)
