"""Schema post-processing shared by every operation."""

from __future__ import annotations

from typing import Any

_UNAUTHORIZED = {
    "description": "No valid token or session.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def add_unauthorized(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Document the 401 that every operation answers without credentials."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            operation.setdefault("responses", {}).setdefault("401", _UNAUTHORIZED)
    return result


_UNKNOWN_PARAMETERS = {
    "description": "A query parameter the operation does not read (code "
    "unknown_parameters; the detail names it and lists those it reads).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def add_unknown_parameters(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Document the 400 that every operation answers to a query parameter it
    does not read (``base.refuse_unknown_query_parameters``); an operation
    that documents its own 400 keeps it."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            operation.setdefault("responses", {}).setdefault("400", _UNKNOWN_PARAMETERS)
    return result


def close_inputs(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Input objects take no other keys (``inputs.StrictInput`` refuses them)."""
    from secrets_app.api.inputs import StrictInput

    names = {f"{cls.__name__}Request" for cls in _all_subclasses(StrictInput)}
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name in names:
            component["additionalProperties"] = False
    return result


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found
