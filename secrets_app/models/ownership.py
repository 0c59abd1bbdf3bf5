"""Who owns what: teams own namespaces, and every role, file and
ServiceAccount the portal writes belongs to one binding or open request."""

from django.contrib.auth.models import Group
from django.db import models

from .bindings import Binding
from .clusters import Cluster
from .requests import AccessRequest


class Namespace(models.Model):
    """A namespace of a cluster as the portal knows it: the team that owns
    it, and the ServiceAccount each of its workloads runs as.

    The health sweep writes ``label_team`` (the namespace label named by
    ``PORTAL_NAMESPACE_TEAM_LABEL``) and ``workload_accounts``; an admin may
    set ``team_override``, which wins. ``team`` is the resolved owner, kept
    in one column so that filters and pages join one row."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="namespaces")
    name = models.CharField(max_length=63)
    label_team = models.CharField(
        "team label",
        max_length=253,
        blank=True,
        help_text="The namespace's team label as the last health sweep read it.",
    )
    team_override = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set by an admin: owns the namespace whatever its label says.",
    )
    team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="namespaces",
        editable=False,
        help_text="The owning team: the override, else the group the label names.",
    )
    # "<kind>/<name>" -> the ServiceAccounts its active pods run as, from the
    # last sweep: the form warns when a patch would replace one.
    workload_accounts = models.JSONField(default=dict, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cluster__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="one_namespace_per_cluster")
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id and self.cluster.name}/{self.name}"


class ClaimKind(models.TextChoices):
    ROLE = "role", "IAM role"  # key: "<account>/<role name>"
    PATH = "path", "Repository file"  # key: "<repository>:<path>"
    SERVICE_ACCOUNT = "service_account", "ServiceAccount"  # key: "<cluster id>/<ns>/<name>"
    # One open change or revocation per binding. key: "<binding id>"
    BINDING = "binding", "Binding change"


class Claim(models.Model):
    """One thing the portal writes, held by exactly one binding or open
    request. The unique key makes two concurrent filings for the same role,
    file or ServiceAccount end with one winner, whatever the checks before
    it saw."""

    kind = models.CharField(max_length=16, choices=ClaimKind)
    key = models.CharField(max_length=1024)
    request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="claims"
    )
    binding = models.ForeignKey(
        Binding, null=True, blank=True, on_delete=models.CASCADE, related_name="claims"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "key"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="one_holder_per_claim"),
            models.CheckConstraint(
                condition=models.Q(request__isnull=True, binding__isnull=False)
                | models.Q(request__isnull=False, binding__isnull=True),
                name="claim_has_one_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
