"""/healthz is a cheap liveness check; /readyz needs the database and Redis
and names whichever failed."""

import pytest

CLOSED_REDIS = "redis://127.0.0.1:9/0"


def test_healthz_answers_without_touching_the_database(client):
    # No db fixture: any query here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_readyz_names_redis_when_it_is_down(client, settings):
    settings.REDIS_URL = CLOSED_REDIS
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["redis"]
    assert body["database"] == "ok"
    assert body["redis"] == "ConnectionError"


def test_readyz_names_the_database_when_it_is_unreachable(client, settings):
    # Without the db fixture pytest-django refuses every query, which the
    # check sees as it would see a database that does not answer.
    settings.REDIS_URL = CLOSED_REDIS
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database", "redis"]


@pytest.mark.django_db
def test_readyz_skips_redis_when_tasks_run_inline(client, settings):
    settings.REDIS_URL = CLOSED_REDIS
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["redis"] == "skipped"


def test_probes_are_public_and_carry_a_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="probe-1")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "probe-1"
