"""Slack incoming webhooks: post one plain-text message.

The webhook URL is a credential (anyone holding it can post to the channel),
so no error raised here carries it: requests' exceptions name the URL, and
are replaced by messages of our own, without chaining.
"""

from __future__ import annotations

import requests

from .errors import PermanentError, RetryableError

SYSTEM = "slack"


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def post_message(webhook_url: str, text: str, *, timeout: float) -> None:
    """Post ``{"text": text}``; ``text`` must already be escaped for Slack."""
    try:
        response = requests.post(
            webhook_url, json={"text": text}, timeout=timeout, allow_redirects=False
        )
    except requests.Timeout:
        raise RetryableError(f"Slack did not answer within {timeout:g}s.", system=SYSTEM) from None
    except requests.RequestException as error:
        raise RetryableError(
            f"Slack could not be reached ({type(error).__name__}).", system=SYSTEM
        ) from None
    if response.status_code == 200:
        return
    # Slack answers with a short word ("invalid_payload", "no_service", ...).
    detail = " ".join(response.text.split())[:200] or response.reason
    message = f"Slack answered {response.status_code}: {detail}"
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableError(
            message,
            system=SYSTEM,
            status=response.status_code,
            retry_after=_retry_after(response),
        )
    raise PermanentError(message, system=SYSTEM, status=response.status_code)
