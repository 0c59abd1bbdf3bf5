"""The fleet upgrades page: admins only; "Check now" lists the bindings
that differ with their diffs; "Open upgrade pull requests" queues the task,
which opens them; each upgrade has its page, with the demo's merge button."""

from __future__ import annotations

import pytest
from django.urls import reverse

from secrets_app.models import TaskRun, Upgrade
from secrets_app.tasks.upgrades import open_upgrades
from tests.fleet.fleet_support import as_if_rendered_before, commit_local, grant, local_world
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path, requester, approver):
    world = local_world(settings, tmp_path)
    outdated = grant(world, "billing", requester, approver)
    edited = grant(world, "ledger", requester, approver)
    as_if_rendered_before(outdated)
    as_if_rendered_before(edited)
    commit_local(world, "deploy", {edited.files["deploy"][0]: "# their own\n"})
    return world


@pytest.mark.parametrize("who", ["requester", "approver"])
def test_only_admins_see_it(world, who, request):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("fleet-upgrades")).status_code == 403
    assert client.post(reverse("fleet-upgrades-open")).status_code == 403


def test_anonymous_is_sent_to_log_in(world):
    response = client_for(None).get(reverse("fleet-upgrades"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_check_lists_what_differs_with_diffs(world, admin_user):
    page = client_for(admin_user).get(reverse("fleet-upgrades"), {"check": "1"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "2 bindings checked" in text
    assert "edited by hand" in text and "outdated" in text
    assert "-# rendered by an older portal" in text
    assert "Open upgrade pull requests (1 upgradable)" in text
    assert "Also overwrite the 1 binding with files edited by hand" in text


def test_opening_queues_the_task_which_opens_them(
    world, admin_user, django_capture_on_commit_callbacks
):
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("fleet-upgrades-open"), {"cluster": world.pk})
    assert response.status_code == 302 and len(callbacks) == 1
    assert Upgrade.objects.count() == 0  # the task opens them
    assert open_upgrades.apply(args=[world.pk, False, admin_user.pk]).get() == "opened"
    run = TaskRun.objects.get(kind="open_upgrades")
    assert run.outcome == "succeeded" and len(run.detail["upgrades"]) == 2
    upgrades = Upgrade.objects.all()
    assert {u.requested_by for u in upgrades} == {admin_user}
    listing = client.get(reverse("fleet-upgrades")).content.decode()
    for upgrade in upgrades:
        assert reverse("fleet-upgrade", args=[upgrade.pk]) in listing


def test_an_upgrade_page_and_its_merge_button(world, admin_user):
    open_upgrades.apply(args=[world.pk, False, admin_user.pk])
    upgrade = Upgrade.objects.get(repository="deploy")
    client = client_for(admin_user)
    page = client.get(reverse("fleet-upgrade", args=[upgrade.pk])).content.decode()
    assert "Merge (local demo)" in page and "billing-secrets" in page
    # The deploy upgrade waits for the infra one, as a grant's pull requests do.
    refused = client.post(reverse("fleet-upgrade-merge", args=[upgrade.pk]), follow=True)
    assert "Merge the infra upgrade" in refused.content.decode()
    upgrade.refresh_from_db()
    assert upgrade.state == "open"
    infra = Upgrade.objects.get(repository="infra")
    client.post(reverse("fleet-upgrade-merge", args=[infra.pk]))
    client.post(reverse("fleet-upgrade-merge", args=[upgrade.pk]))
    upgrade.refresh_from_db()
    assert upgrade.state == "merged"
    assert list(upgrade.entries.values_list("applied", flat=True)) == [True]


def test_a_binding_already_in_an_open_upgrade_says_so(world, admin_user):
    from secrets_app.fleet.check import check_fleet
    from secrets_app.fleet.upgrades import upgrades_open

    opened = upgrades_open(check_fleet(), actor=admin_user)
    ids = sorted(o.upgrade.pk for o in opened)
    outdated = [c for c in check_fleet().checks if c.open_upgrades]
    assert len(outdated) == 1 and outdated[0].open_upgrades == ids
    text = client_for(admin_user).get(reverse("fleet-upgrades"), {"check": "1"}).content.decode()
    for upgrade_id in ids:
        assert f"in open upgrade #{upgrade_id}" in text
