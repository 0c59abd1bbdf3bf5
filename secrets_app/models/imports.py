"""Candidates for import: bindings found in a cluster that the portal does not
know yet."""

from django.conf import settings
from django.db import models

from .bindings import Binding
from .clusters import Cluster


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
