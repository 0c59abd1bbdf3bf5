"""A grant is "active" once its pull requests merged, and "working" only when
the AWS verification (moto) and the latest health sweep (the loopback
Kubernetes API) agree; until then it says what it waits for, on the binding
page, the request page, the inventory and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from secrets_app.models import Binding, BindingState, HealthStatus, TaskRun
from secrets_app.tasks.health import sweep_cluster_task
from tests.aws.aws_world import build_guide_world, irsa_trust
from tests.aws_portal.aws_portal_support import guide_binding
from tests.factories import BindingSecretFactory
from tests.support.celery_worker import emptied_broker, running_worker
from tests.support.clients import api_client_for, client_for
from tests.support.waiting import wait_for
from tests.support.workload import deployed

NOW = timezone.now()


@pytest.mark.parametrize(
    ("fields", "word", "waiting_for"),
    [
        ({}, "active", "waiting for verification; waiting for a sweep"),
        ({"verification_ok": True}, "active", "waiting for a sweep"),
        (
            {"health_status": HealthStatus.HEALTHY, "health_checked_at": NOW},
            "active",
            "waiting for verification",
        ),
        (
            {"verification_ok": False, "health_status": "failing", "health_checked_at": NOW},
            "active",
            "verification found problems; the sweep finds it failing",
        ),
        (
            {"verification_ok": True, "health_status": "unknown", "health_checked_at": NOW},
            "active",
            "the last sweep could not read the cluster",
        ),
        (
            {"verification_ok": True, "health_status": "pending", "health_checked_at": NOW},
            "active",
            "the sweep finds it pending (not every pod has mounted it yet)",
        ),
        (
            {"verification_ok": True, "health_status": "healthy", "health_checked_at": NOW},
            "working",
            "",
        ),
        ({"state": "revoking"}, "revoking", "waiting for the removal pull requests to merge"),
        (
            {"state": "revoking", "removal_merged_at": NOW},
            "revoking",
            "waiting for the cluster / AWS",
        ),
        ({"state": "revoked", "verification_ok": True}, "revoked", ""),
    ],
)
def test_standing_is_derived_from_what_is_stored(fields, word, waiting_for):
    assert Binding(**fields).standing == (word, waiting_for)


def standing_on_pages(binding: Binding, user) -> dict[str, str]:
    web = client_for(user)
    pages = {
        "binding": web.get(binding.get_absolute_url()).content.decode(),
        "request": web.get(binding.request.get_absolute_url()).content.decode(),
        "inventory": web.get(reverse("binding-list")).content.decode(),
    }
    pages["api"] = api_client_for(user).get(f"/api/bindings/{binding.pk}/").json()
    return pages


def sweep(binding: Binding) -> Binding:
    done = TaskRun.objects.filter(kind="health_sweep").exclude(outcome="running")
    before = done.count()
    sweep_cluster_task.delay(binding.cluster_id)
    wait_for(lambda: done.count() > before, timeout=30, what="a sweep")
    return Binding.objects.get(pk=binding.pk)


def verify(binding: Binding, user) -> Binding:
    before = binding.verified_at
    client_for(user).post(reverse("binding-verify", args=[binding.pk]))
    wait_for(
        lambda: Binding.objects.get(pk=binding.pk).verified_at != before,
        timeout=30,
        what="a verification",
    )
    return Binding.objects.get(pk=binding.pk)


@pytest.mark.django_db(transaction=True)
def test_a_grant_is_active_then_working_when_verification_and_a_sweep_agree(
    moto_cluster, fake, clients, portal_aws, requester
):
    world = build_guide_world(clients)
    moto_cluster.kube_api_url = fake.url
    moto_cluster.save(update_fields=["kube_api_url"])
    binding = guide_binding(moto_cluster, world)
    BindingSecretFactory(binding=binding, arn=world.secret_arn)

    pages = standing_on_pages(binding, requester)
    for name in ("binding", "inventory"):
        assert "standing-active" in pages[name], name
        assert "waiting for verification; waiting for a sweep" in pages[name], name
    assert pages["api"]["standing"] == "active"
    assert pages["api"]["waiting_for"] == "waiting for verification; waiting for a sweep"

    with emptied_broker("portal:lock:health-sweep:*", "portal:queued:*"), running_worker():
        binding = verify(binding, requester)
        assert binding.verification_ok is True
        assert binding.standing == ("active", "waiting for a sweep")

        # Nothing deployed yet: the sweep disagrees.
        binding = sweep(binding)
        assert binding.health_status == HealthStatus.FAILING
        assert binding.standing == ("active", "the sweep finds it failing")

        # Argo CD applied the deploy pull request: both agree.
        fake.add_many(deployed(binding))
        binding = sweep(binding)
        assert binding.health_status == HealthStatus.HEALTHY
        assert binding.standing == ("working", "")
        pages = standing_on_pages(binding, requester)
        assert "Verified against AWS and healthy at the latest sweep." in pages["binding"]
        assert "Working: verified and healthy" in pages["request"]
        assert "standing-working" in pages["inventory"]
        assert pages["api"]["standing"] == "working" and pages["api"]["waiting_for"] == ""
        web = client_for(requester)
        listed = web.get(reverse("binding-list") + "?standing=working").content.decode()
        assert binding.get_absolute_url() in listed
        listed = web.get(reverse("binding-list") + "?standing=active").content.decode()
        assert binding.get_absolute_url() not in listed

        # The role's trust changes under it: verification no longer agrees.
        world.set_trust(irsa_trust(world.issuer, sub="system:serviceaccount:other:other"))
        binding = verify(binding, requester)
        assert binding.verification_ok is False
        assert binding.state == BindingState.ACTIVE
        assert binding.standing == ("active", "verification found problems")
