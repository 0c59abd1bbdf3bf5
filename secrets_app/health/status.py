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


#: The one severity order, worst first: what on-call should look at before
#: anything else. Unknown (the cluster could not be read, so it may be
#: failing) ranks above pending (nothing known to be wrong yet). Dashboards
#: sort and count by it, the trend draws all but healthy, in this order.
SEVERITY: tuple[HealthStatus, ...] = (
    HealthStatus.FAILING,
    HealthStatus.DEGRADED,
    HealthStatus.UNKNOWN,
    HealthStatus.PENDING,
    HealthStatus.HEALTHY,
)
#: The statuses that need someone's attention (all but healthy).
NEEDS_ATTENTION: tuple[HealthStatus, ...] = SEVERITY[:-1]


def severity_rank(status: str) -> int:
    """0 for the worst status; an unknown value sorts last."""
    try:
        return SEVERITY.index(status)
    except ValueError:
        return len(SEVERITY)
