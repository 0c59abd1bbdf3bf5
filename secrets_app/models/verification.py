"""Checks of bindings against AWS."""

from django.db import models

from .bindings import Binding


class VerificationResult(models.Model):
    """One check of a binding against AWS (the guide's Validation section)."""

    binding = models.ForeignKey(Binding, on_delete=models.CASCADE, related_name="verifications")
    ok = models.BooleanField()
    findings = models.JSONField(default=list)
    error = models.TextField(blank=True)
    checked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.binding_id} {'ok' if self.ok else 'problems'}"
