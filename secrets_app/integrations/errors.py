"""Errors every adapter raises, so that callers (mostly Celery tasks) know
whether trying again can help without knowing which system failed."""

from __future__ import annotations


class IntegrationError(Exception):
    """A call to an external system failed. ``system`` names it ("github",
    "aws", "kubernetes", "git"); the message keeps the remote's own words."""

    def __init__(self, message: str, *, system: str = "", status: int | None = None):
        super().__init__(message)
        self.system = system
        self.status = status


class RetryableError(IntegrationError):
    """Throttling, 5xx, timeouts, connection errors: the same call may work later.

    ``retry_after`` is the delay in seconds the remote asked for, if any
    (``Retry-After``), which a retry policy must honour.
    """

    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, system=system, status=status)
        self.retry_after = retry_after


class PermanentError(IntegrationError):
    """Bad credentials, missing resource, invalid request: retrying cannot help."""
