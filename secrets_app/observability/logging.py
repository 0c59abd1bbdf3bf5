"""Log records that carry the request id, render as one JSON object per line
in production, and never carry a secret.

Both filters are attached to the handler (not a logger) so that records
propagated from every library logger pass through them too.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache

#: The id of the request (or task) being served by this thread/context.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

MASK = "[REDACTED]"
# Credentials recognisable by shape alone, whoever configured them.
TOKEN_PATTERNS = (
    r"gh[pousr]_[A-Za-z0-9]{20,}",
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"(?:AKIA|ASIA)[0-9A-Z]{16}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
    # A Slack webhook's path is its credential (urllib3 logs paths at DEBUG).
    r"/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
)
# Settings whose values are secrets; short values are skipped because masking
# "abc" everywhere would mangle ordinary words without protecting anything.
SECRET_SETTINGS = (
    "SECRET_KEY",
    "GITHUB_TOKEN",
    "GITHUB_APP_PRIVATE_KEY",
    "GITHUB_WEBHOOK_SECRET",
    "OIDC_RP_CLIENT_SECRET",
    "METRICS_TOKEN",
    "SLACK_WEBHOOK_URL",
    "EMAIL_HOST_PASSWORD",
)
MIN_SECRET_LENGTH = 8


def _configured_secrets() -> tuple[str, ...]:
    from django.conf import settings

    if not settings.configured:
        return ()
    values = (str(getattr(settings, name, "") or "") for name in SECRET_SETTINGS)
    return tuple(sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True))


@lru_cache(maxsize=8)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join([*map(re.escape, secrets), *TOKEN_PATTERNS]), re.DOTALL)


def redact(text: str) -> str:
    """``text`` with every configured secret and token-shaped string masked."""
    return _pattern(_configured_secrets()).sub(MASK, text)


class RequestIdFilter(logging.Filter):
    """Stamps ``record.request_id`` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class RedactionFilter(logging.Filter):
    """Renders the message and traceback now, masked, so no formatter after
    this one can put the raw arguments or exception text back."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id,
    exception, plus any ``extra=`` fields. The line is redacted once more as a
    last line of defence for extras and handlers without the filter."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get() or "-",
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        return redact(json.dumps(entry, default=str))


class PlainFormatter(logging.Formatter):
    """The classic one-line format, redacted the same way as JSON."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
