"""GitHub's ``pull_request`` webhook, as a service: its signature, what a
payload says, and applying it once per delivery. The view only reads the
request and answers."""

from __future__ import annotations

import hashlib
import hmac

from django.db import transaction
from django.utils.dateparse import parse_datetime

from secrets_app.fleet.tracking import apply_upgrade_webhook
from secrets_app.models import PullRequest, PullRequestState, WebhookDelivery
from secrets_app.requests import workflow


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """GitHub's X-Hub-Signature-256, compared in constant time (as bytes: a
    header with other than ASCII in it is simply wrong, not an error)."""
    if not secret or not header.startswith("sha256=") or not header.isascii():
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


#: What each ``pull_request`` action says about the state. Others ("opened",
#: "edited", "synchronize", ...) say nothing the portal records: an old
#: "opened" replayed after the merge must not move anything.
_STATE_OF_ACTION = {
    "closed": None,  # merged or closed: read from the payload
    "reopened": PullRequestState.OPEN,
}


def webhook_change(payload: dict) -> dict:
    """What a ``pull_request`` payload says: which pull request, which state
    (None: nothing to record), and when GitHub last changed it."""
    pull = payload["pull_request"]
    action = str(payload.get("action") or "")
    state = _STATE_OF_ACTION.get(action, "unknown")
    if action == "closed" or (not action and pull.get("state") == "closed"):
        state = PullRequestState.MERGED if pull.get("merged") else PullRequestState.CLOSED
    elif state == "unknown":
        state = None
    return {
        "repo_name": str(payload["repository"]["full_name"]),
        "number": int(pull["number"]),
        "state": state,
        "updated_at": parse_datetime(str(pull.get("updated_at") or "")),
    }


@transaction.atomic
def apply_webhook(change: dict, *, delivery: str, event: str) -> dict:
    """Record one delivery, once: a redelivery (same ``X-GitHub-Delivery``)
    is answered without being applied again. The delivery row and the change
    commit together, so a delivery that failed is applied when GitHub
    redelivers it."""
    if delivery:
        _, new = WebhookDelivery.objects.get_or_create(
            delivery_id=delivery, defaults={"event": event}
        )
        if not new:
            return {"ignored": "delivery already handled"}
    pull = PullRequest.objects.filter(
        repo_name=change["repo_name"], number=change["number"]
    ).first()
    if pull is None:
        upgraded = apply_upgrade_webhook(change)
        return upgraded if upgraded is not None else {"ignored": "not a portal pull request"}
    if change["state"] is None:
        return {"ignored": "nothing to record for this action"}
    pull = workflow.pull_request_update_state(
        pull_id=pull.pk,
        state=change["state"],
        reopen=change["state"] == PullRequestState.OPEN,
        remote_updated_at=change["updated_at"],
    )
    return {"ok": True, "state": pull.state}
