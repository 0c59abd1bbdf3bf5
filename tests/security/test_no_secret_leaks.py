"""No secret value or token anywhere the portal writes. One whole flow runs
with every credential the portal can hold set (GitHub token, webhook
secret, Slack webhook URL, metrics token, SSO client secret) and a secret
whose value sits in (moto's) Secrets Manager: a request filed through the
form with the AWS lookup on, approved, pull requests opened by a real
worker against the loopback GitHub, merged (signed webhooks), the binding
activated and verified. Then every table's text, the log output, every
page and API answer of the URL walk, and the pull requests' bodies and
files are searched: none holds any of them."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from secrets_app.models import (
    AccessRequest,
    Binding,
    Notification,
    PullRequest,
    VerificationResult,
)
from secrets_app.observability.logging import JsonFormatter, RedactionFilter, RequestIdFilter
from tests.aws.aws_world import ACCOUNT
from tests.factories import AccessRequestFactory
from tests.security.walk import get_pages
from tests.support.aws import VALUE_READS
from tests.support.github import DEPLOY, INFRA, fake_github, send_webhook
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SECRET_VALUE = "s3cr3t-VALUE-that-only-pods-may-read-7f3a9c"
GITHUB_TOKEN = "ghp_" + "LeakCheckToken" * 2 + "Zq9"
WEBHOOK_SECRET = "webhook-secret-for-the-leak-check-55e1"
SLACK_URL = "http://127.0.0.1:9/services/T0LEAK/B0LEAK/slackWebhookPathLeak42"
METRICS_TOKEN = "metrics-bearer-token-for-the-leak-check-0b7"
OIDC_SECRET = "oidc-client-secret-for-the-leak-check-91d2"
NEEDLES = {
    "secret value": SECRET_VALUE,
    "GitHub token": GITHUB_TOKEN,
    "webhook secret": WEBHOOK_SECRET,
    "Slack webhook URL": "slackWebhookPathLeak42",
    "metrics token": METRICS_TOKEN,
    "SSO client secret": OIDC_SECRET,
}


@pytest.fixture
def github(settings):
    with fake_github(settings, token=GITHUB_TOKEN) as fake:
        yield fake


@pytest.fixture
def credentials(settings, github, proxy):
    settings.GITHUB_TOKEN = GITHUB_TOKEN
    settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.SLACK_WEBHOOK_URL = SLACK_URL
    settings.SLACK_TIMEOUT_SECONDS = 0.5
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.OIDC_RP_CLIENT_SECRET = OIDC_SECRET
    settings.AWS_ENDPOINT_URL = proxy.url
    settings.PORTAL_AWS_LOOKUP = True
    settings.PORTAL_TASK_RETRY_BASE, settings.PORTAL_TASK_RETRY_CAP = 0.05, 0.2
    yield
    assert not VALUE_READS & set(proxy.operations()), proxy.operations()


@pytest.fixture
def log_output():
    """What the portal's log handler writes: JSON lines through the same filters."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def database_text() -> str:
    """Every text, varchar and JSON column of every table, as text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb')"
        )
        columns = cursor.fetchall()
        chunks = []
        for table, column in columns:
            cursor.execute(f'SELECT "{column}"::text FROM "{table}"')  # noqa: S608 - catalogue names
            chunks.extend(f"{table}.{column}: {v}" for (v,) in cursor.fetchall() if v)
    return "\n".join(chunks)


def leaks(where: str, text: str) -> list[str]:
    return [f"{name} in {where}" for name, needle in NEEDLES.items() if needle in text]


def test_no_secret_or_token_in_the_database_logs_pages_or_pull_requests(
    world, credentials, github, clients, worker, log_output, caplog, settings
):
    caplog.set_level(logging.INFO)
    secret_arn = clients("secretsmanager").create_secret(
        Name="payments-db", SecretString=SECRET_VALUE
    )["ARN"]
    cluster = world.users["requester"].access_requests.first().cluster
    cluster.repo_backend, cluster.aws_account_id = "github", ACCOUNT
    cluster.save(update_fields=["repo_backend", "aws_account_id"])

    requester, approver = world.client("requester"), world.client("approver")
    filed = requester.post(
        reverse("request-create"),
        {
            "cluster": cluster.pk,
            "service": "payments",
            "namespace": "billing",
            "workload_kind": "Deployment",
            "containers": "app",
            "mount_path": "/mnt/secrets-store",
            "justification": "Reads the payments database password.",
            "secrets-TOTAL_FORMS": "1",
            "secrets-INITIAL_FORMS": "0",
            "secrets-0-secret": "payments-db",  # resolved with DescribeSecret
            "secrets-0-sync_secret_name": "payments-db",
            "secrets-0-sync_secret_type": "Opaque",
            "secrets-0-sync_keys": "password as DB_PASSWORD",
            "action": "submit",
        },
    )
    assert filed.status_code == 302, filed.content.decode()[-3000:]
    request = AccessRequest.objects.get(service="payments")
    assert request.secrets.get().secret == secret_arn
    assert approver.post(reverse("request-approve", args=[request.pk])).status_code == 302

    def both_pulls():
        pulls = list(PullRequest.objects.filter(request=request))
        return pulls if len(pulls) == 2 else None

    pulls = wait_for(both_pulls, timeout=90, what="both pull requests")
    for pull in pulls:
        assert send_webhook(pull, merged=True, secret=WEBHOOK_SECRET).status_code == 200
    binding = wait_for(
        lambda: Binding.objects.filter(request=request).first(), timeout=90, what="the binding"
    )
    wait_for(
        lambda: VerificationResult.objects.filter(binding=binding).exists(),
        timeout=90,
        what="the verification",
    )
    # A second request, pending, so the approval queue and its pages hold one.
    AccessRequestFactory(requester=world.users["other"], cluster=cluster)

    found = []
    world.ids.update(request=request.pk, active_request=request.pk, binding=binding.pk)
    roles = ("requester", "other", "approver", "admin")
    for role, url, response in get_pages(world, roles):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        found += leaks(f"{role} GET {url}", body.decode(errors="replace"))
    metrics = Client().get(reverse("metrics"), HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert metrics.status_code == 200
    found += leaks("/metrics", metrics.content.decode())

    for full in (INFRA, DEPLOY):
        owner, name = full.split("/")
        pull = next(p for p in pulls if p.repo_name == full)
        sent = github.pull(owner, name, pull.number)
        found += leaks(f"{full} PR body", json.dumps(sent))
        files = github.branch_files(owner, name, pull.branch)
        found += leaks(f"{full} PR files", json.dumps(files))
        assert any(secret_arn in text for text in files.values())  # the ARN, never the value

    dump = database_text()
    found += leaks("the database", dump)
    found += leaks("the log output", log_output.getvalue())
    found += leaks("captured log records", caplog.text)
    assert not found, "\n".join(found)
    # The searches looked where the flow wrote: the ARN is in the database,
    # Slack was tried (and failed, as the loopback port is closed), logs ran.
    assert secret_arn in dump
    assert Notification.objects.filter(channel="slack").exclude(last_error="").exists()
    assert log_output.getvalue().count("\n") > 10
