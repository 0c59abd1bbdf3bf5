"""Access reviews: every so often each active binding's owning team confirms
it still needs its secrets; what is not confirmed by the deadline is revoked
(``secrets_app/reviews``)."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse

from .bindings import Binding
from .requests import AccessRequest


class AccessReview(models.Model):
    """One round of review. At most one is open at a time (``is_open``)."""

    opened_at = models.DateTimeField()
    deadline = models.DateTimeField()
    is_open = models.BooleanField(default=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # What the deadline found, for the page and the audit log: counts by decision.
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_open"], condition=models.Q(is_open=True), name="one_open_access_review"
            )
        ]

    def __str__(self) -> str:
        return f"Access review #{self.pk} ({self.opened_at:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("review-detail", args=[self.pk])


class ReviewDecision(models.TextChoices):
    PENDING = "pending", "To confirm"
    CONFIRMED = "confirmed", "Confirmed"
    REVOKED = "revoked", "Revoked by the team"
    UNCONFIRMED = "unconfirmed", "Not confirmed: revocation asked by the portal"
    GONE = "gone", "No longer active"


class ReviewItem(models.Model):
    """One binding to confirm, with its owning team and secrets as they were
    when the review opened (an auditor reads what was asked)."""

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="items")
    binding = models.ForeignKey(Binding, on_delete=models.PROTECT, related_name="review_items")
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_items"
    )
    team_name = models.CharField(max_length=150, blank=True)
    secrets = models.JSONField(default=list, blank=True)
    decision = models.CharField(
        max_length=16, choices=ReviewDecision, default=ReviewDecision.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    revocation = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["team_name", "binding__cluster__name", "binding__namespace", "binding_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "binding"], name="one_item_per_binding")
        ]

    def __str__(self) -> str:
        return f"review #{self.review_id}: binding {self.binding_id}"
