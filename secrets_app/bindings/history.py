"""A binding's history: the grant that made it and each change request
since, and which of them its files come from now.

Nothing here is stored twice: the grant and the change requests keep their
filed fields and secrets, and each merged change left a ``binding.changed``
audit event saying what it added and removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from secrets_app.models import AccessRequest, AuditEvent, Binding, RequestState

#: The audit actions of a binding that carry a change's summary.
CHANGE_EVENTS = ("binding.change_requested", "binding.changed")


def current_request(binding: Binding) -> AccessRequest | None:
    """The request whose filed fields and secrets the binding's files were
    rendered from: its latest merged change, else its grant (None for an
    imported binding). One change is in flight per binding at a time, so the
    latest merged one is the newest."""
    latest = binding.changes.filter(state=RequestState.CHANGED).order_by("-created_at", "-pk")
    return latest.first() or binding.request


def _key(secret: Mapping[str, Any]) -> str:
    return secret["alias"]


def secrets_summary(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """What a change does to a binding's secrets (``SecretGrant`` filed
    dicts), by file name: ``added``, ``removed``, and ``changed`` (same file,
    another secret, keys, sync or env vars)."""
    old = {_key(s): dict(s) for s in before}
    new = {_key(s): dict(s) for s in after}
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": sorted(a for a in old.keys() & new.keys() if old[a] != new[a]),
    }


@dataclass(frozen=True)
class Entry:
    """One line of the history: a grant or a change request."""

    request: AccessRequest
    kind: str  # "grant" or "change"
    when: Any  # the time it took effect (merged), or was filed while in flight
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    mount_path: tuple[str, str] | None = None  # (before, after) when it moved


def binding_history(binding: Binding) -> list[Entry]:
    """The grant, then every change request (merged, in flight, refused),
    oldest first, each with what it added and removed. A few queries
    whatever the number of changes."""
    entries = []
    if binding.request_id is not None:
        grant = binding.request
        entries.append(
            Entry(
                request=grant,
                kind="grant",
                when=binding.created_at,
                added=[g.alias for g in grant.secrets.all()],
            )
        )
    # What each change asked for when filed, replaced by what it did once
    # merged (the same summary, in its ``binding.changed`` event).
    events: dict[str, AuditEvent] = {}
    for event in AuditEvent.objects.filter(
        object_type="binding", object_id=str(binding.pk), action__in=CHANGE_EVENTS
    ).order_by("created_at", "id"):
        if event.after and "request" in event.after:
            events[str(event.after["request"])] = event
    changes = binding.changes.select_related("requester").order_by("created_at", "pk")
    for change in changes:
        event = events.get(str(change.pk))
        after = event.after if event else {}
        moved = after.get("mount_path")
        merged = event is not None and event.action == "binding.changed"
        entries.append(
            Entry(
                request=change,
                kind="change",
                when=event.created_at if merged else change.created_at,
                added=list(after.get("added", [])),
                removed=list(after.get("removed", [])),
                changed=list(after.get("changed", [])),
                mount_path=tuple(moved) if moved else None,
            )
        )
    return entries
