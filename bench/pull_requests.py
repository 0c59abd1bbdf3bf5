"""Pull-request benchmark: GitHub requests per pull request, and seconds from
an approval's commit to both pull requests open, with a real Celery worker on
Redis and PyGithub talking to the loopback GitHub fake.

    .venv/bin/python bench/pull_requests.py [--runs 20]

Uses its own PostgreSQL database (portal_bench, created if missing) and
Redis database 14. Prints its figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'portal_bench'").fetchone():
            conn.execute("CREATE DATABASE portal_bench")


def requests_per_pull_request(fake, token: str) -> None:
    from secrets_app.integrations.github import GitHubAuth, GitHubBackend

    print("GitHub requests per pull request (fake's request log)")
    print(f"{'files':>6} {'open':>6} {'re-run':>7}")
    for count in (1, 5, 20):
        fake.create_repo("bench", f"repo{count}", base="main")
        backend = GitHubBackend(
            f"bench/repo{count}", GitHubAuth(token=token), base_url=fake.base_url
        )
        files = {f"dir/file-{i}.yaml": f"value: {i}\n" for i in range(count)}
        fake.clear_log()
        backend.ensure_pull_request(branch="b", base="main", files=files, title="t", body="b")
        opened = len(fake.log)
        fake.clear_log()
        backend.ensure_pull_request(branch="b", base="main", files=files, title="t", body="b")
        print(f"{count:>6} {opened:>6} {len(fake.log):>7}")


def approval_to_pull_requests(fake, token: str, runs: int) -> None:
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings
    from django.db import transaction

    from portal.celery import app as celery_app
    from secrets_app.models import PullRequest
    from secrets_app.requests import workflow
    from tests.factories import (
        AccessRequestFactory,
        ClusterFactory,
        SecretGrantFactory,
        UserFactory,
    )

    for name in ("kilonova", "deploy"):
        fake.create_repo("platform", name, base="main")
    settings.GITHUB_API_URL = fake.base_url
    settings.GITHUB_TOKEN = token
    settings.PORTAL_INFRA_REPO, settings.PORTAL_DEPLOY_REPO = "platform/kilonova", "platform/deploy"
    cluster = ClusterFactory(name="bench", repo_backend="github")
    approver = UserFactory(username="bench-approver")
    approver.groups.add(workflow_group())
    celery_app.control.purge()
    latencies = []
    with start_worker(celery_app, pool="solo", perform_ping_check=False):
        for i in range(runs):
            request = AccessRequestFactory(cluster=cluster, service=f"bench-{i}")
            SecretGrantFactory(request=request)
            with transaction.atomic():
                workflow.request_approve(request_id=request.pk, approver=approver)
            committed = time.perf_counter()
            while PullRequest.objects.filter(request=request).count() < 2:
                time.sleep(0.01)
                if time.perf_counter() - committed > 60:
                    raise SystemExit(f"request {request.pk}: pull requests not open after 60 s")
            latencies.append(time.perf_counter() - committed)
    latencies.sort()
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(f"\nApproval commit -> both pull requests open ({runs} requests, one worker)")
    print(
        f"  median {statistics.median(latencies):.3f} s   p95 {p95:.3f} s   max {latencies[-1]:.3f} s"
    )


def workflow_group():
    from django.conf import settings
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=settings.PORTAL_APPROVER_GROUP)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)

    from fakes.github_api import FakeGitHub

    token = "bench-token-" + "x" * 20
    with FakeGitHub(token=token) as fake:
        requests_per_pull_request(fake, token)
        approval_to_pull_requests(fake, token, args.runs)


if __name__ == "__main__":
    main()
