"""The pull requests the portal opens for a request, one per repository."""

from django.db import models

from .requests import AccessRequest


class PullRequestState(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    CLOSED = "closed", "Closed without merge"


class PullRequestPurpose(models.TextChoices):
    """What a pull request does: add a grant's files, remove them, or
    rewrite a binding's files (a change request)."""

    GRANT = "grant", "Grant"
    REVOKE = "revoke", "Revoke"
    CHANGE = "change", "Change"


class PullRequest(models.Model):
    """One pull request the portal opened for a request, in one repository."""

    request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="pull_requests"
    )
    repository = models.CharField(max_length=16, choices=[("infra", "Infra"), ("deploy", "Deploy")])
    purpose = models.CharField(
        max_length=16, choices=PullRequestPurpose, default=PullRequestPurpose.GRANT
    )
    repo_name = models.CharField(max_length=255)
    branch = models.CharField(max_length=255)
    number = models.PositiveIntegerField()
    url = models.URLField(max_length=1024)
    state = models.CharField(max_length=16, choices=PullRequestState, default=PullRequestState.OPEN)
    head_sha = models.CharField(max_length=64, blank=True)
    # The paths the pull request writes (grant) or deletes (revocation): what
    # the binding records as its files once every pull request merged.
    paths = models.JSONField(default=list, blank=True)
    # The git blob id of each file it writes ({path: id}): what its binding
    # records as written by the portal once it merged.
    file_hashes = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    merged_at = models.DateTimeField(null=True, blank=True)
    # GitHub's ``updated_at`` of the newest event or read applied: an older
    # webhook delivered late (or replayed) cannot move the state back.
    remote_updated_at = models.DateTimeField(null=True, blank=True)
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


class WebhookDelivery(models.Model):
    """A webhook delivery already handled, by GitHub's ``X-GitHub-Delivery``
    id: a redelivery or a replay is answered without being applied twice."""

    delivery_id = models.CharField(max_length=64, unique=True)
    event = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    #: Deliveries older than this are forgotten (GitHub redelivers for days,
    #: not weeks).
    KEPT_DAYS = 30

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"
