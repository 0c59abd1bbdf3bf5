"""Log lines, as written by the configured console handler, carry the request
id and never a secret, whether it comes in a message, its arguments, an
exception or an extra field."""

import io
import json
import logging

import pytest

from secrets_app.observability.logging import JsonFormatter

GITHUB_TOKEN = "configured-github-token-value-xyz"
SHAPED = {
    "classic": "ghp_" + "A1b2C3d4E5" * 4,
    "fine-grained": "github_pat_" + "11ABCDEFG0" * 5,
    "aws": "AKIA" + "ABCDEFGHIJKLMNOP",
}
log = logging.getLogger("tests.ops.logging")


#: The loggers these tests read: theirs, and the readiness probe's.
READ = (log, logging.getLogger("secrets_app.observability.health"))


@pytest.fixture
def console(settings):
    """The handler LOGGING configured, writing into a buffer for the test."""
    settings.GITHUB_TOKEN = GITHUB_TOKEN
    settings.METRICS_TOKEN = "metrics-token-value-1234"
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    buffer = io.StringIO()
    stream, formatter = handler.setStream(buffer), handler.formatter
    # Other tests (a Celery worker's logging set-up, dictConfig calls) may
    # have disabled or raised the level of loggers made before them.
    saved = [(logger.disabled, logger.level) for logger in READ]
    for logger in READ:
        logger.disabled = False
        logger.setLevel(logging.DEBUG)
    yield handler, buffer
    for logger, (disabled, level) in zip(READ, saved, strict=True):
        logger.disabled, logger.level = disabled, level
    handler.setStream(stream)
    handler.setFormatter(formatter)


def secrets_in(text: str, settings) -> list[str]:
    known = [settings.SECRET_KEY, GITHUB_TOKEN, settings.METRICS_TOKEN, *SHAPED.values()]
    return [value for value in known if value in text]


def log_everything(settings) -> None:
    log.warning("token %s and key %s", GITHUB_TOKEN, settings.SECRET_KEY)
    log.warning("shaped: %s", " ".join(SHAPED.values()))
    log.info("extra field", extra={"header": f"Bearer {settings.METRICS_TOKEN}"})
    try:
        raise RuntimeError(f"GitHub refused {SHAPED['classic']} ({GITHUB_TOKEN})")
    except RuntimeError:
        log.exception("call failed")


def test_plain_lines_carry_no_secret(console, settings):
    _handler, buffer = console
    log_everything(settings)
    text = buffer.getvalue()
    assert "call failed" in text and "RuntimeError: GitHub refused" in text
    assert text.count("[REDACTED]") == 7  # the plain format leaves extras out
    assert secrets_in(text, settings) == []


def test_json_lines_carry_no_secret(console, settings):
    handler, buffer = console
    handler.setFormatter(JsonFormatter())
    log_everything(settings)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [line["message"] for line in lines][-1] == "call failed"
    assert "RuntimeError" in lines[-1]["exception"]
    assert lines[2]["header"] == "Bearer [REDACTED]"
    assert {line["level"] for line in lines} == {"WARNING", "INFO", "ERROR"}
    assert secrets_in(buffer.getvalue(), settings) == []


def test_a_private_key_is_masked_whole(console):
    _handler, buffer = console
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----"
    log.warning("loaded %s", key)
    assert "MIIEow" not in buffer.getvalue()
    assert "loaded [REDACTED]" in buffer.getvalue()


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id(client, console, settings):
    handler, buffer = console
    handler.setFormatter(JsonFormatter())
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    response = client.get("/readyz", HTTP_X_REQUEST_ID="req-42.a_b")
    assert response["X-Request-ID"] == "req-42.a_b"
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    readiness = [line for line in lines if line["message"].startswith("readiness:")]
    assert readiness and {line["request_id"] for line in readiness} == {"req-42.a_b"}


@pytest.mark.parametrize("given", ["has space", "x" * 129, "semi;colon", ""])
def test_an_invalid_request_id_is_replaced(client, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] != given
    assert len(response["X-Request-ID"]) == 32


def test_a_long_valid_request_id_is_kept(client):
    given = "a" * 128
    assert client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
