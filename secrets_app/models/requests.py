from django.conf import settings
from django.db import models
from django.urls import reverse

from secrets_app.models.validators import (
    validate_alias,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_kms_key_arn,
    validate_mount_path,
    validate_name_affix,
    validate_role_name,
)
from secrets_app.rendering import name_rules

from .clusters import Cluster


class RequestState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    PROVISIONING = "provisioning", "Provisioning"
    ACTIVE = "active", "Active"
    FAILED = "failed", "Failed"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    REVOKING = "revoking", "Revoking"
    REVOKED = "revoked", "Revoked"
    # A change request whose pull requests merged: its binding took the new
    # values. Final, like rejected: it holds nothing (a change that stayed
    # "active" would keep its binding's claim, one that said "revoked" lie).
    CHANGED = "changed", "Changed"
    # An extension whose approval moved its binding's expiry date: final too
    # (no pull requests: the expiry is the portal's own record).
    EXTENDED = "extended", "Extended"


class RequestKind(models.TextChoices):
    GRANT = "grant", "Grant access"
    REVOKE = "revoke", "Revoke access"
    CHANGE = "change", "Change access"
    EXTEND = "extend", "Extend expiry"


class WorkloadKind(models.TextChoices):
    DEPLOYMENT = "Deployment", "Deployment"
    STATEFULSET = "StatefulSet", "StatefulSet"


class AccessRequest(models.Model):
    """One engineer's request that a workload may read one or more secrets."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    # A revocation is a request too: it goes through the same approval rules,
    # pull requests and audit trail, and removes what the binding's grant made.
    kind = models.CharField(
        max_length=8, choices=RequestKind, default=RequestKind.GRANT, db_index=True
    )
    revokes = models.ForeignKey(
        "secrets_app.Binding",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revocations",
    )
    # A change request modifies an active binding's files (secrets, keys,
    # env vars, mount path); on merge the binding takes its values.
    changes = models.ForeignKey(
        "secrets_app.Binding",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
    )
    # An extension asks for an active binding's ``expires_on`` to move to
    # this request's ``expires_on``; approved, the binding takes the date.
    extends = models.ForeignKey(
        "secrets_app.Binding",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="extensions",
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="requests")
    service = models.CharField(max_length=63, validators=[validate_dns1123_label])
    namespace = models.CharField(max_length=63, validators=[validate_dns1123_label])
    workload_kind = models.CharField(
        max_length=16, choices=WorkloadKind, default=WorkloadKind.DEPLOYMENT
    )
    workload_name = models.CharField(max_length=253, validators=[validate_dns1123_subdomain])
    containers = models.JSONField(default=list, help_text="Names of the containers that mount.")
    service_account = models.CharField(
        "ServiceAccount", max_length=253, validators=[validate_dns1123_subdomain]
    )
    # What the kustomization layers above the Component add to every name
    # (namePrefix/nameSuffix, all layers combined): the ServiceAccount in the
    # cluster, which the trust policy names, is prefix + name + suffix.
    restart_on_change = models.BooleanField(
        "Restart on change",
        default=False,
        help_text="Stakater Reloader restarts the workload when a synced Secret changes.",
    )
    name_prefix = models.CharField(
        max_length=253,
        blank=True,
        default="",
        validators=[validate_name_affix],
        help_text="The kustomization's namePrefix (all layers), if any.",
    )
    name_suffix = models.CharField(
        max_length=253,
        blank=True,
        default="",
        validators=[validate_name_affix],
        help_text="The kustomization's nameSuffix (all layers), if any.",
    )
    role_name = models.CharField(
        "IAM role name",
        max_length=64,
        blank=True,
        validators=[validate_role_name],
        help_text="Blank: derived from cluster, namespace and service.",
    )
    mount_path = models.CharField(
        max_length=1024, default=name_rules.DEFAULT_MOUNT_PATH, validators=[validate_mount_path]
    )
    justification = models.TextField()
    expires_on = models.DateField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=RequestState, default=RequestState.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # When the pull-request task last finished with every pull request
    # recorded; cleared when a run claims the request. The requeue job enqueues
    # only requests whose task has not finished: a request waiting hours for a
    # person to merge is not stuck.
    prs_opened_at = models.DateTimeField(null=True, blank=True)
    # A revocation's files to delete, per repository ({"infra": [...],
    # "deploy": [...]}): the paths its binding recorded when it became active,
    # or, for an imported binding, those found in the repositories. Fixed when
    # the revocation is filed, shown to the approvers, deleted exactly.
    deletes = models.JSONField(default=dict, blank=True)

    #: What a requester files, by the page or the API: the one list the
    #: filing service, the form and the copies of a request read.
    FILED_FIELDS = (
        "cluster",
        "service",
        "namespace",
        "workload_kind",
        "workload_name",
        "containers",
        "restart_on_change",
        "service_account",
        "name_prefix",
        "name_suffix",
        "role_name",
        "mount_path",
        "justification",
        "expires_on",
    )
    #: The filed fields that shape the rendered binding (what a revocation copies).
    BINDING_FIELDS = tuple(
        f for f in FILED_FIELDS if f not in ("cluster", "justification", "expires_on")
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "submitted_at"], name="request_queue_idx")]

    def __str__(self) -> str:
        return (
            f"#{self.pk} {self.service} in {self.cluster_id and self.cluster.name}/{self.namespace}"
        )

    def get_absolute_url(self) -> str:
        return reverse("request-detail", args=[self.pk])

    def filed(self, fields: tuple[str, ...] = FILED_FIELDS) -> dict:
        """The filed fields' values, as ``workflow.request_create`` takes them."""
        return {name: getattr(self, name) for name in fields}


class SecretGrant(models.Model):
    """One secret of a request, as it will be mounted (and optionally synced)."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="secrets")
    position = models.PositiveSmallIntegerField(default=0)
    secret = models.CharField(
        "secret ARN or name", max_length=2048, help_text="Full ARN with suffix, or the name."
    )
    alias = models.CharField(max_length=253, validators=[validate_alias])
    any_suffix = models.BooleanField(
        default=False,
        help_text="Grant on <name>-?????? so that a re-created secret keeps working.",
    )
    kms_key_arn = models.CharField(
        "KMS key ARN", max_length=2048, blank=True, validators=[validate_kms_key_arn]
    )
    jmes = models.JSONField(default=list, blank=True, help_text='[{"path": ..., "alias": ...}]')
    sync_secret_name = models.CharField(
        "Kubernetes Secret", max_length=253, blank=True, validators=[validate_dns1123_subdomain]
    )
    sync_secret_type = models.CharField(
        max_length=64,
        default="Opaque",
        choices=[(t, t) for t in name_rules.SYNC_SECRET_TYPES],
    )
    sync_keys = models.JSONField(
        default=list, blank=True, help_text='[{"object": ..., "key": ..., "env": ...}]'
    )

    #: What a requester files for each secret.
    FILED_FIELDS = (
        "secret",
        "alias",
        "any_suffix",
        "kms_key_arn",
        "jmes",
        "sync_secret_name",
        "sync_secret_type",
        "sync_keys",
    )

    class Meta:
        ordering = ["request", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "alias"], name="unique_alias_per_request")
        ]

    def __str__(self) -> str:
        return self.alias

    def filed(self) -> dict:
        """The filed fields' values, as ``workflow.request_create`` takes them."""
        return {name: getattr(self, name) for name in self.FILED_FIELDS}


class Verdict(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class Decision(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="decisions")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions"
    )
    verdict = models.CharField(max_length=8, choices=Verdict)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # The same approver never counts twice, even under concurrent clicks.
            models.UniqueConstraint(
                fields=["request", "approver"], name="one_decision_per_approver"
            )
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.verdict}d #{self.request_id}"


class Comment(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="request_comments"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"comment by {self.author} on #{self.request_id}"
