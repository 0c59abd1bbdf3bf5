"""The demo's mail: each notification printed as a person reads an email
(who it is for, the subject, the text), not as MIME with encoded headers and
quoted-printable bodies, and not through the worker's logging (where Celery
turned each printed line into a "WARNING celery.redirected" record; the
demo settings also stop that redirection)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

RULE = "-" * 72


class PlainTextEmailBackend(BaseEmailBackend):
    """Writes each message's recipients, subject and text body to stdout."""

    def __init__(self, *args, stream=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream
        self._lock = threading.RLock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        stream = self.stream or sys.stdout
        with self._lock:
            for message in email_messages:
                stream.write(render(message))
            stream.flush()
        return len(email_messages)


def render(message: EmailMessage) -> str:
    """One email: a rule, whom it is for, its subject, its text, a blank line."""
    cc = f" (cc {', '.join(message.cc)})" if message.cc else ""
    lines = [
        RULE,
        f"Email to {', '.join(message.to)}{cc}",
        f"Subject: {message.subject}",
        "",
        message.body.rstrip(),
        "",
        "",
    ]
    return "\n".join(lines)
