"""The demo tells a true story: its sandbox reads like a company's (teams
and their services, not ``team-000`` / ``svc-00042``), only the two bindings
the story says were edited by hand show drift, the 24-hour trend has a day
of sweeps behind it, and the emails it prints read as emails."""

from __future__ import annotations

import importlib
import io
import re
from datetime import timedelta
from itertools import pairwise

import pytest
from django.core import mail
from django.utils import timezone

from secrets_app.demo import clusters as demo_clusters
from secrets_app.demo import names
from secrets_app.demo import teams as demo_teams
from secrets_app.demo.history import HOURS, seed_sweep_history
from secrets_app.demo.mail import PlainTextEmailBackend
from secrets_app.health.service import sweep_cluster
from secrets_app.health.trend import trend
from secrets_app.models import Binding, ClusterSweep, HealthSnapshot, Namespace

NUMBERED = re.compile(r"^(svc|team)-\d+")


@pytest.fixture
def sandbox(db):
    """The sandbox as ``run_demo`` starts it: its fake, its imported
    bindings and namespace owners, then its first sweep."""
    objects = demo_teams.labelled_sandbox(demo_clusters.sandbox_objects()[0])
    fake = demo_clusters.start_fake(objects)
    try:
        cluster = demo_clusters.seed_sandbox(fake.url)
        demo_teams.seed_teams([o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"])
        sweep_cluster(cluster.pk)
        yield cluster
    finally:
        demo_clusters.RUNNING.pop(fake.url, None)
        fake.stop()


def test_the_sandbox_is_a_company_s_teams_and_services(sandbox):
    bindings = list(Binding.objects.filter(cluster=sandbox))
    services = {b.service for b in bindings}
    assert {"payments-api", "ledger-worker", "checkout-web", "search-indexer"} <= services
    assert not [b for b in bindings if NUMBERED.match(b.service) or NUMBERED.match(b.namespace)]
    # Each namespace is its team's, as the fake's labels say.
    owners = dict(Namespace.objects.filter(cluster=sandbox).values_list("name", "team__name"))
    assert owners["payments"] == "team-payments" and owners["ledger"] == "team-ledger"
    assert owners["legacy"] == "team-data"


def test_only_the_bindings_the_story_says_drifted_show_drift(sandbox):
    rows = Binding.objects.filter(cluster=sandbox)
    drifted = {b.service: [r["code"] for r in b.drift] for b in rows if b.has_drift}
    assert drifted == {
        "ledger-worker": ["sa-annotation-missing"],
        "checkout-web": ["workload-volume-class"],
    }
    assert set(drifted) == demo_clusters.SANDBOX_DRIFTED
    # The others were compared (not skipped): their secrets match the cluster's.
    assert all(b.drift_checked_at for b in rows)
    # And the story's other states are still there to show.
    assert {b.health_status for b in rows} >= {"healthy", "failing", "degraded", "pending"}


def test_a_day_of_hourly_sweeps_is_seeded_before_the_first(sandbox):
    assert seed_sweep_history() == HOURS - 1
    sweeps = list(ClusterSweep.objects.filter(cluster=sandbox).order_by("started_at"))
    assert len(sweeps) == HOURS
    gaps = {b.started_at - a.started_at for a, b in pairwise(sweeps)}
    assert gaps == {timedelta(hours=1)}
    # The trend has points across the day, and ends where the real sweep is.
    points = trend(sandbox)
    assert all(p.counts is not None for p in points[2:])
    first, now = sweeps[0].counts, sweeps[-1].counts
    assert points[-1].counts["failing"] == now["failing"] > first["failing"]
    assert sum(first.values()) == sum(now.values())  # the same bindings, earlier healthier
    # Each binding has its history, the latest snapshot still the real one.
    payments = Binding.objects.get(cluster=sandbox, service="payouts-worker")
    history = list(HealthSnapshot.objects.filter(binding=payments).order_by("taken_at"))
    assert len(history) == HOURS and history[0].status == "healthy"
    assert history[-1].status == "failing" and history[-1].taken_at == sweeps[-1].finished_at
    # Failing since the hour the chart turns red.
    payments.refresh_from_db()
    turned = next(s.taken_at for s in history if s.status == "failing")
    assert payments.failing_since == turned
    # Started again (--keep): the history is there already.
    assert seed_sweep_history(now=timezone.now() + timedelta(hours=1)) == 0


def test_demo_emails_print_as_text():
    out = io.StringIO()
    backend = PlainTextEmailBackend(stream=out)
    message = mail.EmailMessage(
        "[Secrets portal] Request #1 approved: data-access-service in janus-dev/deploy",
        "Request #1 was approved by pat — merge the infra pull request first.\n",
        "secrets-portal@localhost",
        ["alice@example.com"],
    )
    assert backend.send_messages([message]) == 1
    text = out.getvalue()
    assert "Email to alice@example.com\n" in text
    assert "Subject: [Secrets portal] Request #1 approved: data-access-service in janus-dev" in text
    assert "approved by pat — merge the infra" in text  # not quoted-printable
    assert "Content-Transfer-Encoding" not in text and "MIME-Version" not in text
    # The demo's worker prints it instead of logging each line as a WARNING
    # (that the demo uses it: tests/notifications/test_notifications_settings.py).
    demo = importlib.import_module("portal.settings.demo")
    assert demo.CELERY_WORKER_REDIRECT_STDOUTS is False


def test_bulk_names_are_plausible_distinct_and_stable():
    teams = [names.namespace_name(k) for k in range(30)]
    assert teams[:3] == ["payments", "ledger", "checkout"] and len(set(teams)) == 30
    services = [names.service_name("payments", j) for j in range(5000)]
    assert len(set(services)) == 5000
    assert services[:2] == ["payments-api", "refunds-api"]
    assert names.service_name("ledger", 4) == "ledger-worker"
    assert all(len(s) <= 63 and re.fullmatch(r"[a-z0-9-]+", s) for s in services)
    clusters = [names.cluster_name(i) for i in range(50)]
    assert len(set(clusters)) == 50 and clusters[0] == "eks-dev-us-west-2-01"
