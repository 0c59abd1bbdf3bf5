"""Verification at a glance: a table of checks (check, result) with the
details folded, under a summary line counted from those same rows."""

from __future__ import annotations

import re

import pytest

from secrets_app.models import VerificationResult
from secrets_app.verification.findings import WARNING, failed, passed
from secrets_app.verification.summary import summarize
from tests.factories import BindingFactory, UserFactory
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

SECRET = "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-??????"


def _findings(*, warnings: int = 0, errors: int = 0) -> list:
    found = [
        passed("cluster.exists", "EKS cluster janus-dev is ACTIVE"),
        passed("oidc_provider.exists", "IAM OIDC provider exists"),
        passed("oidc_provider.audience", "OIDC provider accepts sts.amazonaws.com"),
        passed("role.exists", "IAM role exists"),
        passed("trust.sub", "trust names system:serviceaccount:deploy:app"),
        passed("trust.aud", "trust names sts.amazonaws.com"),
        passed("secret.exists", f"secret {SECRET} exists", subject=SECRET),
        passed("permissions.read_secret", "may read", subject=SECRET),
        passed("permissions.kms_decrypt", "may decrypt", subject=SECRET),
    ]
    for i in range(warnings):
        found[-1 - i] = failed(
            "permissions.secret_recreation",
            "the policy names the exact ARN",
            f"use {SECRET}",
            subject=SECRET,
            severity=WARNING,
        )
    for i in range(errors):
        found[i] = failed("trust.sub", "trust names someone else", "fix the sub condition")
    return found


def test_the_counts_add_up_to_the_rows():
    clean = summarize(_findings())
    assert (clean.total, clean.passed, clean.warnings, clean.errors) == (9, 9, 0, 0)
    assert (clean.headline, clean.counts, clean.verdict) == (
        "All checks pass",
        "9 checks: 9 pass",
        "ok",
    )
    warned = summarize(f.to_dict() for f in _findings(warnings=1))
    assert warned.headline == "Passes with warnings" and warned.verdict == "warning"
    assert warned.counts == "9 checks: 8 pass, 1 warning"
    assert [r.result for r in warned.rows].count("warning") == warned.warnings == 1
    broken = summarize(_findings(warnings=2, errors=1))
    assert broken.headline == "Problems found" and broken.verdict == "error"
    assert broken.counts == "9 checks: 6 pass, 1 error, 2 warnings"
    # Worst first, each group in the order checked.
    assert [r.result for r in broken.rows][:3] == ["error", "warning", "warning"]
    assert broken.rows[1].name == "Survives re-creation"
    assert broken.rows[1].subject == "dcp-db-password-??????"


def test_stored_rows_are_read_leniently():
    rows = summarize([{"check": "trust", "ok": False, "message": "m", "fix": "f"}]).rows
    assert [(r.name, r.result, r.message) for r in rows] == [("trust", "error", "m")]


def test_the_page_shows_the_summary_and_one_row_per_check():
    binding = BindingFactory()
    VerificationResult.objects.create(
        binding=binding, ok=True, findings=[f.to_dict() for f in _findings(warnings=1)]
    )
    page = client_for(UserFactory()).get(binding.get_absolute_url()).content.decode()
    section = page[page.index('id="verification"') : page.index("Verify now")]
    assert '<span class="badge sev-warning">Passes with warnings</span>' in section
    assert "9 checks: 8 pass, 1 warning." in section
    assert "All checks pass" not in section
    assert section.count('<tr class="check-') == 9
    assert section.count('<span class="badge sev-warning">warning</span>') == 1
    assert section.count('<span class="badge sev-ok">pass</span>') == 8
    # Details folded; the warning's fix is there to unfold.
    assert len(re.findall(r"<details>", section)) == 9
    assert f"<strong>Fix:</strong> use {SECRET}" in section


def test_a_failed_check_shows_its_fix_unfolded():
    binding = BindingFactory()
    VerificationResult.objects.create(
        binding=binding, ok=False, findings=[f.to_dict() for f in _findings(errors=1)]
    )
    page = client_for(UserFactory()).get(binding.get_absolute_url()).content.decode()
    assert "Problems found" in page and "9 checks: 8 pass, 1 error." in page
    assert page.count("<details open>") == 1
