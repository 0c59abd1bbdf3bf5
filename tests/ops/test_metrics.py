"""/metrics: who may read it, and the series it carries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from portal.celery import app as celery_app
from secrets_app.models import ClusterSweep, HealthStatus
from secrets_app.observability.metrics import BindingHealthCollector
from tests.factories import BindingFactory, ClusterFactory, UserFactory

TOKEN = "metrics-token-for-tests-0123456789"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_PUBLIC = False
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.mark.django_db
def test_it_refuses_anonymous_callers(client, metrics_token):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer wrong", "Token " + TOKEN, "Bearer", ""])
def test_it_refuses_a_wrong_token(client, metrics_token, header):
    assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 401


@pytest.mark.django_db
def test_it_refuses_a_token_when_none_is_configured(client, settings):
    settings.METRICS_PUBLIC = False
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.django_db
def test_it_accepts_the_bearer_token(client, metrics_token):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_staff_may_read_it_and_other_users_may_not(client, metrics_token):
    client.force_login(UserFactory(username="someone"))
    assert client.get("/metrics").status_code == 401
    client.force_login(UserFactory(username="operator", is_staff=True))
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_it_is_public_when_configured(client, settings):
    settings.METRICS_PUBLIC = True
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_requests_are_counted_by_route_name_not_path(client, settings):
    settings.METRICS_PUBLIC = True
    before = sample("portal_http_requests_total", method="GET", route="healthz", status="200")
    missing = sample("portal_http_requests_total", method="GET", route="unmatched", status="404")
    client.get("/healthz")
    client.get("/no/such/page/123")
    assert sample("portal_http_requests_total", method="GET", route="healthz", status="200") == (
        before + 1
    )
    assert (
        sample("portal_http_requests_total", method="GET", route="unmatched", status="404")
        == missing + 1
    )
    text = client.get("/metrics").content.decode()
    assert (
        'portal_http_request_duration_seconds_bucket{le="0.01",method="GET",route="healthz"' in text
    )


@pytest.mark.django_db
def test_latest_sweep_of_each_cluster_is_exported(client, settings):
    settings.METRICS_PUBLIC = True
    dev, prod = ClusterFactory(name="janus-dev"), ClusterFactory(name="janus-prod")
    now = timezone.now()
    old = now - timedelta(minutes=10)
    ClusterSweep.objects.create(cluster=dev, started_at=old, finished_at=old, ok=False)
    ClusterSweep.objects.create(
        cluster=dev, started_at=now, finished_at=now + timedelta(seconds=2.5), ok=True
    )
    ClusterSweep.objects.create(cluster=prod, started_at=now, finished_at=None, ok=False)
    ClusterFactory(name="never-swept")

    text = client.get("/metrics").content.decode()
    assert 'portal_cluster_sweep_duration_seconds{cluster="janus-dev"} 2.5' in text
    assert 'portal_cluster_sweep_ok{cluster="janus-dev"} 1.0' in text
    assert 'portal_cluster_sweep_ok{cluster="janus-prod"} 0.0' in text
    # A sweep still running has no duration yet; a cluster never swept has no series.
    assert 'portal_cluster_sweep_duration_seconds{cluster="janus-prod"}' not in text
    assert "never-swept" not in text


@pytest.mark.django_db
def test_bindings_are_counted_by_health_in_one_query(client, settings, django_assert_num_queries):
    settings.METRICS_PUBLIC = True
    cluster = ClusterFactory()
    for n, health in enumerate(["healthy", "healthy", "failing"]):
        BindingFactory(cluster=cluster, service=f"svc-{n}", role_arn="", health_status=health)
    with django_assert_num_queries(1):
        families = list(BindingHealthCollector().collect())
    values = {s.labels["health"]: s.value for s in families[0].samples}
    assert values == {HealthStatus.HEALTHY: 2, HealthStatus.FAILING: 1}
    text = client.get("/metrics").content.decode()
    assert 'portal_bindings{health="healthy",state="active"} 2.0' in text


@celery_app.task(name="tests.ops.succeeds")
def succeeds():
    return 1


@celery_app.task(name="tests.ops.fails")
def fails():
    raise ValueError("boom")


@celery_app.task(bind=True, name="tests.ops.retries", max_retries=1, default_retry_delay=0)
def retries(self):
    raise self.retry(exc=RuntimeError("try again"))


def test_task_outcomes_are_counted_from_celery_signals():
    def outcome(task, kind):
        return sample("portal_task_outcomes_total", task=task, outcome=kind)

    before = {
        "ok": outcome("tests.ops.succeeds", "success"),
        "fail": outcome("tests.ops.fails", "failure"),
        "retry": outcome("tests.ops.retries", "retry"),
    }
    succeeds.apply()
    fails.apply()
    retries.apply()
    assert outcome("tests.ops.succeeds", "success") == before["ok"] + 1
    assert outcome("tests.ops.fails", "failure") == before["fail"] + 1
    assert outcome("tests.ops.retries", "retry") >= before["retry"] + 1
