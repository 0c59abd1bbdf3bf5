"""One of everything a URL can point at, owned by "alice" (the requester),
so that every pattern of the resolver can be filled with a real id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    HealthSnapshot,
    ImportCandidate,
    Namespace,
    Notification,
    PullRequest,
    Upgrade,
    UpgradeBinding,
)
from secrets_app.requests import workflow
from secrets_app.reviews.opening import open_access_review
from tests.factories import (
    GUIDE_ARN,
    AccessRequestFactory,
    BindingFactory,
    BindingSecretFactory,
    SecretGrantFactory,
    own_namespace,
)

ROLES = ("anonymous", "requester", "other", "approver", "admin")


@dataclass
class World:
    users: dict[str, Any]
    ids: dict[str, Any] = field(default_factory=dict)

    def client(self, role: str, **kwargs: Any) -> Client:
        client = Client(**kwargs)
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client


def build_world(*, requester, other_user, approver, admin_user, cluster) -> World:
    cluster.repo_backend = "local"
    cluster.save(update_fields=["repo_backend"])
    own_namespace(requester, cluster, "billing", team="team-deploy")
    pending = AccessRequestFactory(requester=requester, cluster=cluster, service="billing")
    SecretGrantFactory(request=pending)
    active = AccessRequestFactory(
        requester=requester, cluster=cluster, service="data-access-service", state="active"
    )
    SecretGrantFactory(request=active)
    binding = BindingFactory(
        request=active,
        cluster=cluster,
        namespace="deploy",
        service="data-access-service",
        role_arn="arn:aws:iam::287796791794:role/data-access-service-secrets",
        owner=requester,
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )
    BindingSecretFactory(
        binding=binding, arn=GUIDE_ARN, name="dcp-db-password", alias="dcp-db-password"
    )
    # A change of it that its requester cancelled: its page shows a diff.
    change = AccessRequestFactory(
        requester=requester,
        cluster=cluster,
        service="data-access-service",
        kind="change",
        changes=binding,
        state="cancelled",
    )
    SecretGrantFactory(request=change)
    HealthSnapshot.objects.create(
        binding=binding,
        status="failing",
        pods_expected=1,
        last_error="MountVolume.SetUp failed",
        taken_at=timezone.now(),
    )
    pull = PullRequest.objects.create(
        request=active,
        repository="infra",
        repo_name="platform/kilonova",
        branch=f"portal/request-{active.pk}",
        number=7,
        url="https://github.example.com/platform/kilonova/pull/7",
    )
    upgrade = Upgrade.objects.create(
        cluster=cluster,
        repository="deploy",
        repo_name="platform/deploy",
        branch=f"portal/upgrade-{cluster.name}-1",
        number=8,
        url="https://github.example.com/platform/deploy/pull/8",
    )
    UpgradeBinding.objects.create(
        upgrade=upgrade, binding=binding, request=active, files={}, writes=[], deletes=[]
    )
    candidate = ImportCandidate.objects.create(
        cluster=cluster,
        namespace="legacy",
        service_account="old-service",
        role_arn="arn:aws:iam::287796791794:role/old-service",
        service="old-service",
        last_seen_at=timezone.now(),
    )
    with transaction.atomic():
        workflow.request_comment(request_id=pending.pk, author=requester, body="First comment.")
    event = AuditEvent.objects.filter(request=pending).latest("pk")
    Token.objects.create(user=requester)
    seen = {"user_agent": "curl", "ip_address": "10.0.0.1", "username": "alice", "path_info": "/"}
    attempt = AccessAttempt.objects.create(
        **seen, http_accept="*/*", get_data="", post_data="", failures_since_start=1
    )
    access_log = AccessLog.objects.create(**seen, http_accept="*/*")
    failure_log = AccessFailureLog.objects.create(**seen, http_accept="*/*")
    notification = Notification.objects.create(
        key=f"security-walk-{pending.pk}",
        event="request.submitted",
        channel="email",
        recipients=["pat@example.com"],
        subject=f"Request #{pending.pk} waits for approval",
        body="alice asks for dcp-db-password.",
    )
    # An access review of the one active binding, which team-deploy answers.
    review = open_access_review(force=True)
    world = World(
        users={
            "anonymous": None,
            "requester": requester,
            "other": other_user,
            "approver": approver,
            "admin": admin_user,
        }
    )
    world.ids.update(
        request=pending.pk,
        active_request=active.pk,
        change_request=change.pk,
        binding=binding.pk,
        pull=pull.pk,
        upgrade=upgrade.pk,
        candidate=candidate.pk,
        cluster=cluster.pk,
        cluster_name=cluster.name,
        namespace="deploy",
        namespace_row=Namespace.objects.get(cluster=cluster, name="deploy").pk,
        audit_event=event.pk,
        user=requester.pk,
        group=Group.objects.get(name="platform").pk,
        notification=notification.pk,
        access_attempt=attempt.pk,
        access_log=access_log.pk,
        access_failure_log=failure_log.pk,
        token=requester.pk,  # the admin's TokenProxy is keyed by user
        app_label="secrets_app",
        request_type=ContentType.objects.get_for_model(AccessRequest).pk,
        secret_arn=GUIDE_ARN,
        review=review.pk,
        review_item=review.items.get().pk,
    )
    return world
