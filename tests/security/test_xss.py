"""Hostile text in every free-text field, typed by users (justification,
comments, approval comments, reject and revoke reasons, every field of the
request form, search and filter parameters) or coming from a cluster, AWS
or a task (import candidates, drift, health errors, sweep and task errors,
verification findings, audit messages, notifications): every page the URL
walk reaches, as three roles, shows it escaped and never raw."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from secrets_app.events.audit import audit_record
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    ClusterSweep,
    HealthSnapshot,
    ImportCandidate,
    Notification,
    TaskRun,
    VerificationResult,
)
from tests.factories import AccessRequestFactory, SecretGrantFactory
from tests.security.walk import get_pages

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
TEMPLATE = "{{7*7}}"
PAYLOAD = f"{SCRIPT} {IMG} {JS_URL} {TEMPLATE}"
SHORT = IMG  # for fields of 63 characters
RAW = ["<script>alert(1)", "<img src=x", "onerror=alert(1)>"]
JS_LINK = ('href="javascript:', 'src="javascript:', "href='javascript:", 'action="javascript:')


def hostile(tag: str, *, short: bool = False) -> str:
    return f"x-{tag}{SHORT if short else ' ' + PAYLOAD}"


class Pages:
    """Every HTML page fetched, for the checks at the end."""

    def __init__(self) -> None:
        self.html: list[tuple[str, str]] = []

    def add(self, label: str, response) -> None:
        assert response.status_code < 500, (label, response.status_code)
        if "text/html" in response.get("Content-Type", ""):
            self.html.append((label, response.content.decode()))

    def joined(self) -> str:
        return "\n".join(html for _, html in self.html)


def user_typed(world, pages: Pages) -> dict[str, str]:
    """Free text entered through the pages, as the users would."""
    ids, shown = world.ids, {}
    requester, approver = world.client("requester"), world.client("approver")

    form = {
        "cluster": ids["cluster"],
        "service": "billing-two",
        "namespace": "deploy",
        "workload_kind": "Deployment",
        "containers": "app",
        "mount_path": "/mnt/secrets-store",
        "justification": hostile("justification"),
        "secrets-TOTAL_FORMS": "1",
        "secrets-INITIAL_FORMS": "0",
        "secrets-0-secret": ids["secret_arn"],
        "secrets-0-sync_secret_type": "Opaque",
        "action": "submit",
    }
    created = requester.post(reverse("request-create"), form)
    assert created.status_code == 302, created.content.decode()[-2000:]
    shown["justification"] = form["justification"]
    new = AccessRequest.objects.get(justification=form["justification"])
    pages.add("new request", requester.get(new.get_absolute_url()))

    # Every field of the form hostile: refused field by field, echoed escaped.
    bad = {
        key: hostile(key)
        for key in (
            "service",
            "namespace",
            "workload_name",
            "containers",
            "service_account",
            "role_name",
            "mount_path",
            "secrets-0-secret",
            "secrets-0-alias",
            "secrets-0-kms_key_arn",
            "secrets-0-jmes",
            "secrets-0-sync_secret_name",
            "secrets-0-sync_keys",
        )
    }
    refused = requester.post(reverse("request-create"), {**form, **bad, "action": "preview"})
    assert refused.status_code == 200
    pages.add("form with errors", refused)
    shown.update({f"form {k}": v for k, v in bad.items() if k != "workload_name"})

    body = hostile("comment")
    requester.post(reverse("request-comment", args=[ids["request"]]), {"body": body})
    shown["comment"] = body

    to_approve = AccessRequestFactory(requester=world.users["requester"], service="approve-me")
    SecretGrantFactory(request=to_approve)
    comment = hostile("approval")
    approver.post(reverse("request-approve", args=[to_approve.pk]), {"comment": comment})
    shown["approval comment"] = comment
    pages.add("approved request", approver.get(to_approve.get_absolute_url()))

    to_reject = AccessRequestFactory(requester=world.users["requester"], service="reject-me")
    SecretGrantFactory(request=to_reject)
    reason = hostile("reject")
    approver.post(reverse("request-reject", args=[to_reject.pk]), {"reason": reason})
    shown["reject reason"] = reason
    pages.add("rejected request", requester.get(to_reject.get_absolute_url()))

    revoke = hostile("revoke")
    asked = requester.post(reverse("binding-revoke", args=[ids["binding"]]), {"reason": revoke})
    assert asked.status_code == 302
    shown["revoke reason"] = revoke
    pages.add("revocation request", requester.get(asked["Location"]))

    owner = hostile("owner")
    decided = approver.post(
        reverse("import-decide", args=[ids["cluster_name"]]),
        {"action": "adopt", "candidate": ids["candidate"], "owner": owner},
        follow=True,
    )
    pages.add("import refused for an unknown owner", decided)
    shown["import owner"] = owner[:150]
    return shown


def reflected(world, pages: Pages) -> dict[str, str]:
    """Query parameters that pages echo (search boxes, filters)."""
    client, shown = world.client("approver"), {}
    cases = {
        "request-list": ["q"],
        "binding-list": ["q", "namespace", "service", "secret", "requester"],
        "secret-index": ["q"],
        "secret-access": ["secret"],
        "aws-secret-picker": ["q"],
        "request-create": ["secrets"],
    }
    for name, params in cases.items():
        values = {p: hostile(f"{name}-{p}") for p in params}
        if name == "aws-secret-picker":
            values["cluster"] = world.ids["cluster"]
        pages.add(name, client.get(reverse(name) + "?" + urlencode(values)))
        # The picker (AWS lookups off here) and the form's secret count
        # echo nothing; the raw check still covers them.
        if name not in ("aws-secret-picker", "request-create"):
            shown.update({f"{name}?{p}": v for p, v in values.items()})
    pages.add(
        "import status filter",
        client.get(reverse("import-cluster", args=[world.ids["cluster_name"]]), {"status": SCRIPT}),
    )
    return shown


def from_outside(world) -> dict[str, str]:
    """What clusters, AWS, tasks and the portal itself store as text."""
    ids, shown = world.ids, {}
    now = timezone.now()

    def put(tag: str, *, short: bool = False) -> str:
        shown[tag] = value = hostile(tag, short=short)
        return value

    ImportCandidate.objects.filter(pk=ids["candidate"]).update(
        service_account=put("candidate service account"),
        role_arn=put("candidate role"),
        secret_provider_classes=[
            {
                "name": put("candidate spc"),
                "objects": [{"arn": put("candidate arn"), "name": "n", "alias": put("alias")}],
            }
        ],
        workloads=[
            {
                "kind": "Deployment",
                "name": put("candidate workload"),
                "secret_provider_class": "x",
                "pods": 1,
            }
        ],
    )
    Binding.objects.filter(pk=ids["binding"]).update(
        role_arn=put("binding role annotation"),
        # Merged a day ago: past the drift grace period, so the page shows drift.
        created_at=now - timedelta(days=1),
        has_drift=True,
        drift_checked_at=now,
        drift=[
            {
                "code": "role_annotation",
                "where": "serviceaccount",
                "expected": put("drift expected"),
                "actual": put("drift actual"),
                "message": put("drift message"),
            }
        ],
    )
    BindingSecret.objects.filter(binding_id=ids["binding"]).update(alias=put("secret alias"))
    HealthSnapshot.objects.filter(binding_id=ids["binding"]).update(
        last_error=put("health last error")
    )
    ClusterSweep.objects.create(
        cluster_id=ids["cluster"], started_at=now, finished_at=now, error=put("sweep error")
    )
    TaskRun.objects.create(
        kind="open_pull_requests",
        request_id=ids["active_request"],
        outcome="failed",
        error=put("task error"),
    )
    VerificationResult.objects.create(
        binding_id=ids["binding"],
        ok=False,
        error=put("verification error"),
        findings=[{"check": "trust", "ok": False, "message": "m", "fix": "f"}],
    )
    with transaction.atomic():
        event = audit_record(
            actor=None,
            action="request.commented",
            obj=AccessRequest.objects.get(pk=ids["request"]),
            request=AccessRequest.objects.get(pk=ids["request"]),
            message=put("audit message"),
        )
    ids["audit_event"] = event.pk
    Notification.objects.filter(pk=ids["notification"]).update(
        subject=put("notification subject")[:255], body=put("notification body")
    )
    return shown


def test_hostile_text_is_shown_escaped_and_never_raw(world):
    pages = Pages()
    shown = {**user_typed(world, pages), **reflected(world, pages), **from_outside(world)}
    for role, url, response in get_pages(world, ("requester", "approver", "admin")):
        pages.add(f"{role} {url}", response)
    extra = [
        ("admin", reverse("admin:secrets_app_auditevent_change", args=[world.ids["audit_event"]])),
        ("admin", reverse("admin:secrets_app_auditevent_changelist") + "?q=x-audit"),
        ("approver", reverse("request-progress", args=[world.ids["active_request"]])),
    ]
    for role, url in extra:
        pages.add(f"{role} {url}", world.client(role).get(url))

    raw = [
        f"{label}: {fragment}"
        for label, html in pages.html
        for fragment in (*RAW, *JS_LINK)
        if fragment in html
    ]
    assert not raw, "hostile text rendered raw:\n" + "\n".join(raw)

    everything = pages.joined()
    unseen = [tag for tag, value in shown.items() if escape(value) not in everything]
    assert not unseen, f"shown nowhere, escaped: {unseen}"
    assert TEMPLATE in everything  # text, never evaluated as a template
