"""Runs of background jobs, shown on the page of what each worked on."""

import datetime

from django.db import models
from django.utils import timezone

from .clusters import Cluster
from .requests import AccessRequest


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
