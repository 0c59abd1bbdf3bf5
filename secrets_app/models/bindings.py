"""What exists (or is being made) in a cluster: bindings, the pull requests
that make them, the task runs that open those, and what the portal last saw."""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .clusters import Cluster
from .requests import AccessRequest


class BindingSource(models.TextChoices):
    PORTAL = "portal", "Portal"
    IMPORTED = "imported", "Imported"


class BindingState(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKING = "revoking", "Revoking"
    REVOKED = "revoked", "Revoked"


class HealthStatus(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    DEGRADED = "degraded", "Degraded"
    FAILING = "failing", "Failing"
    PENDING = "pending", "Pending"
    UNKNOWN = "unknown", "Unknown"


class Binding(models.Model):
    """A workload's access to secrets as it exists in a cluster and in AWS."""

    request = models.OneToOneField(
        AccessRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="binding"
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="bindings")
    namespace = models.CharField(max_length=63)
    service = models.CharField(max_length=63)
    service_account = models.CharField(max_length=253)
    secret_provider_class = models.CharField(max_length=253)
    role_arn = models.CharField(max_length=2048, blank=True)
    workload_kind = models.CharField(max_length=16, default="Deployment")
    workload_name = models.CharField(max_length=253)
    synced_secret_names = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16, choices=BindingSource, default=BindingSource.PORTAL)
    state = models.CharField(
        max_length=16, choices=BindingState, default=BindingState.ACTIVE, db_index=True
    )
    health_status = models.CharField(
        max_length=16, choices=HealthStatus, default=HealthStatus.UNKNOWN, db_index=True
    )
    health_checked_at = models.DateTimeField(null=True, blank=True)
    # Set when the health status turns failing, cleared when it recovers: the
    # "failing for more than N minutes" notification reads it.
    failing_since = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_bindings",
        help_text="Who is reminded of expiry: the requester, or whoever adopted it.",
    )
    expires_on = models.DateField(null=True, blank=True, db_index=True)
    # What differs between what the portal expects and what the cluster and AWS
    # have: a list of {"code", "where", "expected", "actual", "message"}.
    drift = models.JSONField(default=list, blank=True)
    has_drift = models.BooleanField(null=True, blank=True, db_index=True)
    drift_checked_at = models.DateTimeField(null=True, blank=True)
    verification_ok = models.BooleanField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cluster__name", "namespace", "service_account"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace", "service_account"],
                condition=~models.Q(state="revoked"),
                name="one_live_binding_per_service_account",
            )
        ]
        indexes = [models.Index(fields=["cluster", "namespace"], name="binding_place_idx")]

    def __str__(self) -> str:
        return f"{self.cluster_id and self.cluster.name}/{self.namespace}/{self.service_account}"

    def get_absolute_url(self) -> str:
        return reverse("binding-detail", args=[self.pk])


class BindingSecret(models.Model):
    """One secret a binding grants, kept as rows so that "who can read this
    secret" is one indexed query."""

    binding = models.ForeignKey(Binding, on_delete=models.CASCADE, related_name="secrets")
    arn = models.CharField(max_length=2048, db_index=True)
    name = models.CharField(max_length=512, db_index=True)
    alias = models.CharField(max_length=253)

    class Meta:
        ordering = ["binding", "alias"]

    def __str__(self) -> str:
        return self.name


class PullRequestState(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    CLOSED = "closed", "Closed without merge"


class PullRequest(models.Model):
    """One pull request the portal opened for a request, in one repository."""

    request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="pull_requests"
    )
    repository = models.CharField(max_length=16, choices=[("infra", "Infra"), ("deploy", "Deploy")])
    purpose = models.CharField(
        max_length=16, choices=[("grant", "Grant"), ("revoke", "Revoke")], default="grant"
    )
    repo_name = models.CharField(max_length=255)
    branch = models.CharField(max_length=255)
    number = models.PositiveIntegerField()
    url = models.URLField(max_length=1024)
    state = models.CharField(max_length=16, choices=PullRequestState, default=PullRequestState.OPEN)
    head_sha = models.CharField(max_length=64, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    merged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["request", "purpose", "repository"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "repository", "purpose"], name="one_pr_per_repository"
            )
        ]

    def __str__(self) -> str:
        return f"{self.repo_name}#{self.number}"


class TaskRun(models.Model):
    """One run of a background job, shown on the page of what it worked on."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        RETRYING = "retrying", "Will retry"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32, db_index=True)
    request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="task_runs"
    )
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.CASCADE, related_name="task_runs"
    )
    task_id = models.CharField(max_length=64, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.RUNNING)
    error = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome}"

    #: A run still "running" after this long lost its worker (killed, or the
    #: machine went away): the task itself is redelivered or re-queued.
    LOST_AFTER = datetime.timedelta(minutes=30)

    @property
    def looks_lost(self) -> bool:
        return (
            self.outcome == self.Outcome.RUNNING
            and timezone.now() - self.started_at > self.LOST_AFTER
        )

    def finish(self, outcome: str, *, error: str = "", **detail) -> None:
        """Record how the run ended; ``detail`` is merged into what it had."""
        self.outcome = outcome
        self.error = error[:4000]
        self.detail = {**self.detail, **detail}
        self.finished_at = timezone.now()
        self.save(update_fields=["outcome", "error", "detail", "finished_at"])


class HealthSnapshot(models.Model):
    """What one sweep saw of one binding."""

    binding = models.ForeignKey(Binding, on_delete=models.CASCADE, related_name="snapshots")
    status = models.CharField(max_length=16, choices=HealthStatus)
    pods_expected = models.PositiveIntegerField(default=0)
    pods_mounted = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    diagnosis_code = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    taken_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["binding", "-taken_at"], name="snapshot_latest_idx")]

    def __str__(self) -> str:
        return f"{self.binding_id} {self.status} at {self.taken_at:%Y-%m-%d %H:%M}"


class ClusterSweep(models.Model):
    """One health sweep of one cluster: when, how it went, what it cost."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="sweeps")
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    requests = models.PositiveIntegerField(default=0)
    pods = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="Bindings per status.")

    class Meta:
        ordering = ["-started_at"]
        # Each cluster's last sweep (the dashboards ask for it per cluster).
        indexes = [models.Index(fields=["cluster", "-started_at", "-id"], name="sweep_latest_idx")]

    def __str__(self) -> str:
        return f"{self.cluster_id} sweep at {self.started_at:%Y-%m-%d %H:%M}"


class VerificationResult(models.Model):
    """One check of a binding against AWS (the guide's Validation section)."""

    binding = models.ForeignKey(Binding, on_delete=models.CASCADE, related_name="verifications")
    ok = models.BooleanField()
    findings = models.JSONField(default=list)
    error = models.TextField(blank=True)
    checked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.binding_id} {'ok' if self.ok else 'problems'}"


class ImportCandidate(models.Model):
    """Something found in a cluster that looks like a binding the portal does
    not know yet: a ServiceAccount with a role annotation and the AWS
    SecretProviderClasses and workloads that go with it. Kept for review;
    found again, it is updated, never duplicated."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ADOPTED = "adopted", "Adopted"
        DISMISSED = "dismissed", "Dismissed"
        KNOWN = "known", "Already a binding"
        GONE = "gone", "No longer in the cluster"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="import_candidates")
    namespace = models.CharField(max_length=63)
    service_account = models.CharField(max_length=253)
    role_arn = models.CharField(max_length=2048, blank=True)
    service = models.CharField(max_length=63, blank=True)
    # [{"name": ..., "objects": [{"arn", "name", "alias"}]}]
    secret_provider_classes = models.JSONField(default=list, blank=True)
    # [{"kind": ..., "name": ..., "secret_provider_class": ...}]
    workloads = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PROPOSED, db_index=True)
    binding = models.ForeignKey(
        Binding, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_sources"
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cluster__name", "namespace", "service_account"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace", "service_account"],
                name="one_import_candidate_per_service_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id and self.cluster.name}/{self.namespace}/{self.service_account}"


class Notification(models.Model):
    """One message to send (email or Slack), kept so that a failure is
    retried and visible, and so that a reminder is sent once: ``key`` is
    unique per event and recipient."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=255, unique=True)
    event = models.CharField(max_length=64, db_index=True)
    channel = models.CharField(max_length=8, choices=Channel)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    state = models.CharField(max_length=8, choices=State, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} by {self.channel} ({self.state})"
