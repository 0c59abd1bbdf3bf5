"""The health verdict of a binding, shared by the sweep (which computes it),
the models (which store it) and the pages (which show it)."""

from django.db.models import TextChoices


class HealthStatus(TextChoices):
    """Per-binding verdict of one sweep.

    HEALTHY   every expected pod mounted, synced Secrets present, SA and annotation ok.
    DEGRADED  some pods mounted, but some fail, a synced Secret is missing, or a
              static finding (e.g. annotation mismatch) threatens the next pods.
    FAILING   no pod mounted and something is known to be wrong (failing pods,
              SA or class missing, wrong volume class, bad annotation).
    PENDING   nothing known to be wrong, but not everything is mounted yet: no
              pods (not deployed, scaled to zero) or mounts still in progress.
    UNKNOWN   never produced by the join; the collector raises RetryableError
              when the cluster cannot be read and the caller marks the last
              snapshot stale / unknown.
    """

    HEALTHY = "healthy", "Healthy"
    DEGRADED = "degraded", "Degraded"
    FAILING = "failing", "Failing"
    PENDING = "pending", "Pending"
    UNKNOWN = "unknown", "Unknown"
