"""The last error as the dashboards show it first: the provider's words,
without the kubelet's and the driver's wrappers (DOMAIN.md's exact texts)."""

from __future__ import annotations

import pytest

from fakes.cluster_gen import CATALOGUE_ERRORS, SYNC_NUMBERS, kubelet_failed_mount
from secrets_app.health.diagnosis import diagnose
from secrets_app.health.error_text import distinctive
from secrets_app.templatetags.health_tags import mount_error

ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/app/db-AbCdEf"
# DOMAIN.md, "What the cluster tells about a mount", word for word.
DOMAIN_TEXT = (
    'MountVolume.SetUp failed for volume "secrets-store-inline" : rpc error: code = '
    "Unknown desc = failed to mount secrets store objects for pod shop/api-7d9f-x1, "
    "err: rpc error: code = Unknown desc = An IAM role must be associated with service "
    "account api (namespace: shop)"
)


def _inner(number: int) -> str:
    return CATALOGUE_ERRORS[number].format(
        sa="app", ns="team", arn=ARN, acct="111122223333", spc="app-secrets", secret="app-db"
    )


def test_it_keeps_the_provider_error_of_domain_md():
    assert distinctive(DOMAIN_TEXT) == (
        "An IAM role must be associated with service account api (namespace: shop)"
    )


@pytest.mark.parametrize("number", sorted(set(CATALOGUE_ERRORS) - SYNC_NUMBERS))
def test_each_kubelet_wrapper_is_removed_and_the_diagnosis_still_matches(number):
    whole = kubelet_failed_mount("team", "app-7d9f-x1", _inner(number), number)
    gist = distinctive(whole)
    assert gist == _inner(number)
    assert "MountVolume.SetUp" not in gist and not gist.startswith("rpc error")
    assert diagnose(gist) == diagnose(whole)  # nothing the catalogue needs is cut


@pytest.mark.parametrize("number", sorted(SYNC_NUMBERS))
def test_sync_failures_keep_their_spc_and_secret(number):
    # FailedToCreateSecret texts have no kubelet wrapper; the Secret's name is the point.
    assert distinctive(_inner(number)) == _inner(number)


def test_unknown_texts_and_bare_wrappers_stay_whole():
    other = 'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found'
    assert distinctive(other) == 'configmap "app-config" not found'
    assert distinctive("something nobody has seen") == "something nobody has seen"
    bare = 'MountVolume.SetUp failed for volume "v" : rpc error: code = Unknown desc = '
    assert distinctive(bare) == bare.strip()
    assert distinctive("") == ""


def test_the_whole_text_is_folded_under_the_gist():
    html = str(mount_error(DOMAIN_TEXT))
    assert '<span class="wrap error-gist">An IAM role must be associated' in html
    assert "<details" in html and "<summary>Whole message</summary>" in html
    assert "MountVolume.SetUp failed for volume &quot;secrets-store-inline&quot;" in html
    # Nothing to unfold when the text is all gist; and it is escaped.
    plain = str(mount_error("a <b> c"))
    assert "<details" not in plain and "a &lt;b&gt; c" in plain
    cut = str(mount_error(DOMAIN_TEXT, 20))
    assert "An IAM role must be…" in cut and "<details" in cut
