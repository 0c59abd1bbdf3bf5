"""Fleet upgrades: one pull request per cluster and repository that brings
many bindings' files to what the renderer makes today, and the bindings it
carries."""

from django.conf import settings
from django.db import models

from .bindings import Binding
from .clusters import Cluster
from .pull_requests import PullRequestState
from .requests import AccessRequest


class Upgrade(models.Model):
    """One upgrade pull request: in one repository (infra or deploy), for the
    bindings of one cluster. Followed like a request's pull requests (the
    webhook, the poll); once merged its bindings record the files as theirs."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="upgrades")
    repository = models.CharField(max_length=16, choices=[("infra", "Infra"), ("deploy", "Deploy")])
    repo_name = models.CharField(max_length=255)
    branch = models.CharField(max_length=255)
    # Blank until the backend opened it (a run that failed before leaves the
    # row for the next run to finish).
    number = models.PositiveIntegerField(null=True, blank=True)
    url = models.URLField(max_length=1024, blank=True)
    state = models.CharField(max_length=16, choices=PullRequestState, default=PullRequestState.OPEN)
    head_sha = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    #: An admin asked to overwrite hand-edited files (and files of unknown origin).
    forced = models.BooleanField(default=False)
    opened_at = models.DateTimeField(auto_now_add=True)
    merged_at = models.DateTimeField(null=True, blank=True)
    # As ``PullRequest.remote_updated_at``: an older event cannot undo a newer one.
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # A second run adds to the open one instead of opening another.
            models.UniqueConstraint(
                fields=["cluster", "repository"],
                condition=models.Q(state="open"),
                name="one_open_upgrade_per_cluster_repository",
            )
        ]
        indexes = [models.Index(fields=["repo_name", "number"], name="upgrade_pull_idx")]

    def __str__(self) -> str:
        where = f"#{self.number}" if self.number else "(not opened)"
        return f"upgrade {self.cluster_id and self.cluster.name} {self.repository} {where}"


class UpgradeBinding(models.Model):
    """One binding in an upgrade pull request: what the pull request writes
    and deletes for it in that repository."""

    upgrade = models.ForeignKey(Upgrade, on_delete=models.CASCADE, related_name="entries")
    binding = models.ForeignKey(Binding, on_delete=models.CASCADE, related_name="upgrades")
    # The request its files were rendered from (its grant or latest change):
    # a change merged since means the upgrade's files are not its files.
    request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Every file of its render in the repository, {path: git blob id} (the
    # pull request writes those that differ), and the paths it deletes.
    files = models.JSONField(default=dict)
    writes = models.JSONField(default=list)
    deletes = models.JSONField(default=list)
    # Its files had been edited by hand (or their origin is unknown) and an
    # admin chose to overwrite them.
    overwrites = models.JSONField(default=list, blank=True)
    # Set once the pull request merged: whether the binding took the files.
    applied = models.BooleanField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["upgrade", "binding"]
        constraints = [
            models.UniqueConstraint(fields=["upgrade", "binding"], name="one_entry_per_binding")
        ]

    def __str__(self) -> str:
        return f"{self.upgrade} binding #{self.binding_id}"
