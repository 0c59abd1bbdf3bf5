"""Notifications to send, kept so that failures are retried and visible."""

from django.db import models


class Notification(models.Model):
    """One message to send (email or Slack), kept so that a failure is
    retried and visible, and so that a reminder is sent once: ``key`` is
    unique per event and recipient."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=255, unique=True)
    event = models.CharField(max_length=64, db_index=True)
    channel = models.CharField(max_length=8, choices=Channel)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    state = models.CharField(max_length=8, choices=State, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} by {self.channel} ({self.state})"
