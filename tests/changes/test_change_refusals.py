"""Who may ask for a change, of which binding, and when; what a change may
not touch; and the claims: a change writes only its own binding's files.
Every refusal is a WorkflowError (who, which, when) or a field error (what
was filed), and nothing is saved."""

from __future__ import annotations

import pytest
from django.db import transaction

from secrets_app.integrations.errors import PermanentError
from secrets_app.models import (
    AccessRequest,
    BindingState,
    Claim,
    ClaimKind,
    RequestKind,
    RequestState,
)
from secrets_app.ownership.claims import path_key
from secrets_app.requests import changes, filing, provisioning, revocation, workflow
from tests.changes.change_support import (
    API_SECRET,
    GUIDE_SECRET,
    ask_change,
    granted,
    local_files,
    local_world,
)
from tests.factories import BindingFactory, UserFactory, own_namespace
from tests.inventory.revocation_support import imported_binding
from tests.support.access_requests import approve, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(settings, tmp_path, requester, approver):
    cluster = local_world(settings, tmp_path)
    return granted(cluster, requester, approver)


def refusal(binding, asker, **data) -> changes.WorkflowError:
    with pytest.raises(workflow.WorkflowError) as refused:
        ask_change(binding, asker, **data)
    assert not AccessRequest.objects.filter(kind=RequestKind.CHANGE).exists()
    return refused.value


def problems(binding, asker, *secrets, **data) -> dict[str, str]:
    with pytest.raises(filing.FilingInvalid) as invalid:
        ask_change(binding, asker, *secrets, **data)
    assert not AccessRequest.objects.filter(kind=RequestKind.CHANGE).exists()
    return {p.path: p.message for p in invalid.value.problems}


def test_someone_outside_the_team_may_not(live, other_user):
    refused = refusal(live, other_user)
    assert (refused.code, refused.status) == ("forbidden", 403)
    assert "owner, members of the team that owns namespace deploy" in refused.message


def test_an_approver_asks_nothing_but_approves(live, second_approver):
    assert refusal(live, second_approver).code == "forbidden"


def test_a_member_of_the_namespaces_team_and_an_admin_may(live, admin_user, approver):
    bob = UserFactory(username="bob")
    own_namespace(bob, live.cluster, "deploy")
    change = ask_change(live, bob)
    assert change.requester == bob and state_of(change) == RequestState.PENDING
    with transaction.atomic():
        workflow.request_cancel(request_id=change.pk, actor=bob)
    assert ask_change(live, admin_user).requester == admin_user


def test_a_revoked_or_revoking_binding_is_not_changed(live, requester):
    live.state = BindingState.REVOKING
    live.save(update_fields=["state"])
    refused = refusal(live, requester)
    assert refused.code == "wrong_state" and "only active bindings" in refused.message


def test_an_imported_binding_is_refused_with_the_reason(live, admin_user):
    binding = imported_binding(live.cluster)
    refused = refusal(binding, admin_user)
    assert refused.code == "imported"
    assert "the portal did not write its files" in refused.message


def test_a_second_change_is_refused_naming_the_first(live, requester):
    first = ask_change(live, requester)
    with pytest.raises(workflow.WorkflowError) as refused:
        ask_change(live, requester, GUIDE_SECRET, justification="Again.")
    assert refused.value.code == "duplicate"
    assert f"Change request #{first.pk}" in refused.value.message
    assert AccessRequest.objects.filter(kind=RequestKind.CHANGE).count() == 1


def test_no_change_while_a_revocation_is_open_and_no_revocation_while_a_change_is(live, requester):
    with transaction.atomic():
        revoke = revocation.request_revocation(
            binding_id=live.pk, requester=requester, reason="retired"
        )
    refused = refusal(live, requester)
    assert refused.code == "duplicate" and f"Revocation request #{revoke.pk}" in refused.message

    with transaction.atomic():
        workflow.request_cancel(request_id=revoke.pk, actor=requester)
    change = ask_change(live, requester)
    with pytest.raises(workflow.WorkflowError) as refused_revocation, transaction.atomic():
        revocation.request_revocation(binding_id=live.pk, requester=requester, reason="x")
    assert f"request #{change.pk} (change access by alice" in refused_revocation.value.message


def test_what_defines_the_binding_is_refused_on_its_field(live, requester):
    found = problems(
        live,
        requester,
        GUIDE_SECRET,
        API_SECRET,
        namespace="payments",
        service_account="payments-api",
        role_name="someone-elses-role",
        cluster="janus-prod",
    )
    assert set(found) == {"namespace", "service_account", "role_name", "cluster"}
    assert "cannot change the ServiceAccount" in found["service_account"]
    # The binding's own values may be given (a script sends them all).
    change = ask_change(
        live,
        requester,
        namespace="deploy",
        service="data-access-service",
        service_account="data-access-service-secrets",
        containers=["app"],
        cluster=live.cluster,
    )
    assert change.changes_id == live.pk


def test_a_change_that_changes_nothing_is_refused(live, requester):
    found = problems(live, requester, GUIDE_SECRET)
    assert "This changes nothing" in found["secrets"]


def test_new_secrets_meet_the_grants_rules(live, requester):
    other_account = "arn:aws:secretsmanager:us-west-2:999999999999:secret:other-AbC123"
    found = problems(
        live,
        requester,
        GUIDE_SECRET,
        {"secret": other_account, "alias": "other"},
        {"secret": API_SECRET["secret"], "alias": "Not A File"},
        mount_path="/etc",
    )
    assert "another AWS account" in found["secrets[1].secret"]
    assert "secrets[1].kms_key_arn" in found
    assert "secrets[2].alias" in found
    assert "mount_path" in found
    assert not found.get("namespace")  # the namespace rule of new grants is not asked


def test_a_change_cannot_write_a_path_another_binding_holds(live, requester, approver):
    """The cluster's files moved onto a path another binding holds: the
    change is refused on filing naming the holder; a claim taken after the
    filing stops the pull requests before anything is written."""
    cluster = live.cluster
    cluster.deploy_path_template = "apps/{namespace}"
    cluster.save()
    other = BindingFactory(cluster=cluster, service="billing")
    taken = path_key(cluster.repository("deploy"), "apps/deploy/serviceaccount.yaml")
    claim = Claim.objects.create(kind=ClaimKind.PATH, key=taken, binding=other)

    found = problems(live, requester)
    message = " ".join(found.values())
    assert "apps/deploy/serviceaccount.yaml" in message
    assert f"belongs to binding #{other.pk}" in message

    claim.delete()
    change = ask_change(live, requester)
    assert Claim.objects.filter(request=change, key=taken).exists()
    # Between filing and the pull requests, the path went to another holder.
    Claim.objects.filter(request=change, key=taken).update(request=None, binding=other)
    approve(change, approver)
    before = local_files(cluster, "deploy")
    with pytest.raises(PermanentError) as refused:
        provisioning.open_pull_requests(change.pk)
    assert f"belongs to binding #{other.pk}" in str(refused.value)
    assert local_files(cluster, "deploy") == before
    assert not change.pull_requests.exists()
