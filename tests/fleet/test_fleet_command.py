"""``manage.py upgrade_bindings``: the dry run lists what differs (with
diffs when asked), ``--open-prs`` opens the upgrade pull requests."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from secrets_app.models import Upgrade
from tests.fleet.fleet_support import as_if_rendered_before, commit_local, grant, local_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def bindings(settings, tmp_path, requester, approver):
    world = local_world(settings, tmp_path)
    outdated = grant(world, "billing", requester, approver)
    edited = grant(world, "ledger", requester, approver)
    current = grant(world, "orders", requester, approver)
    as_if_rendered_before(outdated)
    as_if_rendered_before(edited)
    commit_local(world, "deploy", {edited.files["deploy"][0]: "# their own\n"})
    return outdated, edited, current


def run(*args: str) -> str:
    out = StringIO()
    call_command("upgrade_bindings", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_dry_run_lists_what_differs(bindings):
    outdated, edited, current = bindings
    out = run("--dry-run")
    assert "Checked 3 binding(s)" in out
    assert "1 current, 1 outdated, 1 edited by hand" in out
    assert f"#{outdated.pk} janus-local/deploy/billing-secrets: outdated" in out
    assert f"#{edited.pk} janus-local/deploy/ledger-secrets: edited by hand" in out
    assert f"#{current.pk} " not in out
    assert "edited (changed since the portal wrote it)" in out
    assert "-# rendered by an older portal" not in out
    assert Upgrade.objects.count() == 0


def test_the_diffs_show_each_file(bindings):
    out = run("--diff", "--cluster", "janus-local")
    assert "-# rendered by an older portal" in out
    assert "-# their own" in out


def test_open_prs_leaves_hand_edits_alone_unless_forced(bindings):
    outdated, edited, _ = bindings
    out = run("--open-prs")
    # A binding with a file edited by hand is left out as a whole: its two
    # repositories stay in step.
    assert "janus-local infra: upgrade #" in out and "janus-local deploy: upgrade #" in out
    assert out.count("(1 binding(s))") == 2
    deploy = Upgrade.objects.get(repository="deploy")
    assert list(deploy.entries.values_list("binding_id", flat=True)) == [outdated.pk]
    run("--open-prs", "--force-hand-edited")
    assert sorted(deploy.entries.values_list("binding_id", flat=True)) == sorted(
        [outdated.pk, edited.pk]
    )


def test_force_goes_with_open_prs(bindings):
    with pytest.raises(CommandError, match="--force-hand-edited goes with --open-prs"):
        run("--force-hand-edited")


def test_an_unknown_cluster_is_refused(bindings):
    with pytest.raises(CommandError, match="unknown cluster"):
        run("--cluster", "nowhere")
