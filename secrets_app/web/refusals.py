"""The HTTP status of a workflow refusal (``WorkflowError.code``), the same
on the pages and in the API, so that scripts (and tests) can tell "not
allowed" from "not now"."""

from __future__ import annotations

REFUSAL_STATUS = {"forbidden": 403, "own_request": 403, "not_found": 404}


def refusal_status(code: str) -> int:
    """403 not allowed, 404 no such thing, 409 not in a state that allows it."""
    return REFUSAL_STATUS.get(code, 409)
