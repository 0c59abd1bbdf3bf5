"""Post-merge verification of a binding against AWS (pure Python, no Django)."""

from secrets_app.verification.checks import verify_binding
from secrets_app.verification.findings import ExpectedBinding, Finding, has_errors

__all__ = ["ExpectedBinding", "Finding", "has_errors", "verify_binding"]
