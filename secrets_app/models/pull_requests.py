"""The pull requests the portal opens for a request, one per repository."""

from django.db import models

from .requests import AccessRequest


class PullRequestState(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    CLOSED = "closed", "Closed without merge"


class PullRequestPurpose(models.TextChoices):
    """What a pull request does: add a grant's files, or remove them."""

    GRANT = "grant", "Grant"
    REVOKE = "revoke", "Revoke"


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
    opened_at = models.DateTimeField(auto_now_add=True)
    merged_at = models.DateTimeField(null=True, blank=True)
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
