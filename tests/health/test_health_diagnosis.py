"""The catalogue matches the exact texts of DOMAIN.md and nothing else."""

from __future__ import annotations

import pytest

from fakes.cluster_gen import CATALOGUE_ERRORS, SYNC_NUMBERS, kubelet_failed_mount
from secrets_app.health.diagnosis import CATALOGUE, STATIC, diagnose

ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/app/db-AbCdEf"


def _text(number: int) -> str:
    inner = CATALOGUE_ERRORS[number].format(
        sa="app", ns="team", arn=ARN, acct="111122223333", spc="app-secrets", secret="app-db"
    )
    if number in SYNC_NUMBERS:
        return inner
    return kubelet_failed_mount("team", "app-7d9f-x1", inner, number)


def test_the_catalogue_has_all_sixteen_entries():
    assert sorted(CATALOGUE) == list(range(1, 17))
    assert len({d.code for d in CATALOGUE.values()}) == 16


@pytest.mark.parametrize("number", sorted(CATALOGUE_ERRORS))
def test_each_catalogue_text_gets_its_diagnosis(number):
    assert diagnose(_text(number)) == CATALOGUE[number]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ('token for audience "sts.amazonaws.com" not found', 9),
        ("Pod not supported on Fargate", 12),
        ("failed to retrieve region from node", 6),
        ("rpc error: Not authorized to perform sts:AssumeRoleWithWebIdentity", 2),
        ("ResourceNotFoundException: x", 5),
    ],
)
def test_alternative_texts_of_an_entry(text, number):
    assert diagnose(text) == CATALOGUE[number]


def test_specific_aws_errors_win_over_the_all_regions_wrapper():
    assert diagnose(_text(3)).code == CATALOGUE[3].code
    assert diagnose(_text(7)).code == CATALOGUE[7].code


def test_unknown_or_differently_cased_text_has_no_diagnosis():
    assert diagnose("MountVolume.SetUp failed: something nobody has seen") is None
    assert diagnose(CATALOGUE_ERRORS[1].lower()) is None
    assert diagnose("") is None


def test_static_findings_have_diagnoses():
    for code in (
        "sa-missing",
        "sa-annotation-missing",
        "sa-annotation-mismatch",
        "spc-missing",
        "volume-class-mismatch",
        "synced-secret-missing",
    ):
        assert STATIC[code].code == code
        assert STATIC[code].cause and STATIC[code].fix
