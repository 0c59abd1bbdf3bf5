"""The demo's fake clusters run what bindings need, and the sandbox lacks
something, so that its readiness checklist has a finding to show."""

from __future__ import annotations

import pytest

from fakes.kube_api import FakeKubeApi
from secrets_app.demo import clusters as demo_clusters
from secrets_app.demo import teams as demo_teams
from secrets_app.health import readiness
from secrets_app.health.service import sweep_cluster
from secrets_app.models import Namespace
from tests.factories import ClusterFactory

pytestmark = pytest.mark.django_db


def test_the_sandbox_shows_a_finding_and_why_pods_keep_old_versions(db):
    objects = demo_teams.labelled_sandbox(demo_clusters.sandbox_objects()[0])
    fake = demo_clusters.start_fake(objects)
    try:
        cluster = demo_clusters.seed_sandbox(fake.url)
        checks = sweep_cluster(cluster.pk).readiness
    finally:
        demo_clusters.RUNNING.pop(fake.url, None)
        fake.stop()
    assert [c["code"] for c in readiness.failing(checks)] == [readiness.DRIVER_NODES]
    assert readiness.rotation_enabled(checks) is False
    # The system namespaces are no team's.
    names = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    assert "kube-system" not in names and "reloader" not in names
    assert not Namespace.objects.filter(name="kube-system").exists()


def test_janus_is_ready():
    with FakeKubeApi() as fake:
        fake.add_many(demo_teams.janus_objects())
        cluster = ClusterFactory(name="janus-dev", kube_api_url=fake.url)
        checks = sweep_cluster(cluster.pk).readiness
    assert readiness.failing(checks) == []
    assert readiness.rotation_enabled(checks) is True
