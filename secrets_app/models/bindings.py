"""Bindings: a workload's access to secrets as it exists in a cluster and in
AWS, made by the portal or imported, and the secrets each grants."""

from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.urls import reverse

from secrets_app.health.status import HealthStatus

from .clusters import Cluster
from .requests import AccessRequest


class BindingSource(models.TextChoices):
    PORTAL = "portal", "Portal"
    IMPORTED = "imported", "Imported"


class BindingState(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKING = "revoking", "Revoking"
    REVOKED = "revoked", "Revoked"


class Standing(NamedTuple):
    """Where a binding stands, derived from what is stored: ``word`` refines
    the state (an active binding is "working" once verification and the
    latest sweep agree), ``waiting_for`` says what it waits for ("" for
    nothing)."""

    word: str  # working, active, revoking, revoked
    waiting_for: str


#: What an active binding waits for, by its latest sweep's verdict.
_HEALTH_WAITS = {
    HealthStatus.PENDING: "the sweep finds it pending (not every pod has mounted it yet)",
    HealthStatus.DEGRADED: "the sweep finds it degraded",
    HealthStatus.FAILING: "the sweep finds it failing",
    HealthStatus.UNKNOWN: "the last sweep could not read the cluster",
}
#: Bindings whose ``standing`` is "working", as a filter.
WORKING = models.Q(
    state=BindingState.ACTIVE, verification_ok=True, health_status=HealthStatus.HEALTHY
)
WAITING_FOR_REMOVAL = "waiting for the removal pull requests to merge"
WAITING_FOR_CLUSTER_AWS = "waiting for the cluster / AWS"


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
    # When its pods started running a superseded version of a secret (the
    # rotation they missed, past the grace period), None when none is
    # stale; ``versions``: per secret, what its pods mount (health/rotation.py).
    stale_since = models.DateTimeField(null=True, blank=True, db_index=True)
    versions = models.JSONField(default=list, blank=True)
    # The last sweep that found a pod mounting it (None: never seen mounted);
    # "unused" counts from it, or from ``created_at`` (bindings/usage.py).
    last_mounted_at = models.DateTimeField(null=True, blank=True, db_index=True)
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
    # The paths its grant's pull requests wrote, per repository ({"infra":
    # [...], "deploy": [...]}), recorded when it became active: a revocation
    # deletes exactly these, whatever the cluster's layout is by then.
    files = models.JSONField(default=dict, blank=True)
    # What the portal wrote at those paths, as git blob ids per repository
    # ({"infra": {path: id}, ...}): a file whose id is neither this nor
    # that of today's render was edited by hand (fleet upgrades). Empty for
    # bindings made before it was recorded: their files' origin is unknown.
    file_hashes = models.JSONField(default=dict, blank=True)
    # When both removal pull requests merged. The binding stays "revoking"
    # until a sweep and an AWS check find nothing of it left; ``leftovers``
    # says what was still there at the last look.
    removal_merged_at = models.DateTimeField(null=True, blank=True)
    leftovers = models.JSONField(default=list, blank=True)
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

    @property
    def standing(self) -> Standing:
        """ "active" once its pull requests merged, "working" only when the
        AWS verification and the latest health sweep both say it works;
        "revoking" until the cluster and AWS confirm it is gone."""
        if self.state == BindingState.REVOKED:
            return Standing("revoked", "")
        if self.state == BindingState.REVOKING:
            if self.removal_merged_at is None:
                return Standing("revoking", WAITING_FOR_REMOVAL)
            return Standing("revoking", WAITING_FOR_CLUSTER_AWS)
        waits = []
        if self.verification_ok is None:
            waits.append("waiting for verification")
        elif not self.verification_ok:
            waits.append("verification found problems")
        if self.health_checked_at is None:
            waits.append("waiting for a sweep")
        elif self.health_status != HealthStatus.HEALTHY:
            waits.append(_HEALTH_WAITS[self.health_status])
        return Standing("active" if waits else "working", "; ".join(waits))


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
