"""What the health sweeps saw: per binding, and per sweep of a cluster."""

from django.db import models

from secrets_app.health.status import HealthStatus

from .bindings import Binding
from .clusters import Cluster


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
    # What the cluster has installed for bindings to work (health/readiness.py):
    # [{code, ok, present, title, cause, fix}]; empty when the sweep failed.
    readiness = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        # Each cluster's last sweep (the dashboards ask for it per cluster).
        indexes = [models.Index(fields=["cluster", "-started_at", "-id"], name="sweep_latest_idx")]

    def __str__(self) -> str:
        return f"{self.cluster_id} sweep at {self.started_at:%Y-%m-%d %H:%M}"
