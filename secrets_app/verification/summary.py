"""A verification result as the binding page shows it: one row per check
(check, result, details folded away) and a summary line counted from those
same rows, so that "1 warning" above always means one warning row below.

A warning is a check that did not pass cleanly but does not fail the
binding (``findings.has_errors`` ignores it); it is counted on its own,
never as a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from secrets_app.verification.findings import ERROR, Finding

#: Check code -> what the table calls it.
CHECK_NAMES: dict[str, str] = {
    "cluster.exists": "EKS cluster",
    "cluster.oidc_issuer": "Cluster's OIDC issuer",
    "oidc_provider.exists": "IAM OIDC provider",
    "oidc_provider.audience": "OIDC provider audience",
    "role.exists": "IAM role",
    "trust.web_identity": "Trust: web identity",
    "trust.oidc_provider": "Trust: OIDC provider",
    "trust.sub": "Trust: ServiceAccount (sub)",
    "trust.aud": "Trust: audience (aud)",
    "trust.deny": "Trust: no Deny",
    "trust.pod_identity_principal": "Trust: Pod Identity principal",
    "trust.pod_identity_actions": "Trust: Pod Identity actions",
    "trust.pod_identity_scope": "Trust: Pod Identity scope",
    "pod_identity.association": "Pod identity association",
    "secret.exists": "Secret exists",
    "secret.kms_key": "Secret's KMS key",
    "secret.cross_account": "Cross-account access",
    "permissions.read_secret": "The role may read the secret",
    "permissions.describe_secret": "May describe (DescribeSecret)",
    "permissions.kms_decrypt": "May decrypt (kms:Decrypt)",
    "permissions.secret_recreation": "Survives re-creation",
}

PASS, WARNING = "pass", "warning"


@dataclass(frozen=True, slots=True)
class CheckRow:
    name: str
    code: str
    subject: str  # the secret's name for per-secret checks, else ""
    result: str  # "pass", "warning" or "error"
    message: str
    fix: str


@dataclass(frozen=True, slots=True)
class Summary:
    rows: tuple[CheckRow, ...]
    passed: int
    warnings: int
    errors: int

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def verdict(self) -> str:
        """The badge's severity: "error", "warning" or "ok"."""
        return ERROR if self.errors else WARNING if self.warnings else "ok"

    @property
    def headline(self) -> str:
        if self.errors:
            return "Problems found"
        return "Passes with warnings" if self.warnings else "All checks pass"

    @property
    def counts(self) -> str:
        """ "9 checks: 8 pass, 1 warning" (the parts that are not zero)."""
        parts = [f"{self.passed} pass"]
        if self.errors:
            parts.append(_n(self.errors, "error"))
        if self.warnings:
            parts.append(_n(self.warnings, "warning"))
        return f"{_n(self.total, 'check')}: {', '.join(parts)}"


def _n(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _result(finding: Finding) -> str:
    if finding.ok:
        return PASS
    return ERROR if finding.severity == ERROR else WARNING


def _subject(subject: str) -> str:
    # Per-secret checks repeat once per secret: the name tells them apart,
    # the whole ARN is in the message.
    return subject.partition(":secret:")[2] or subject


def _finding(data: Mapping[str, Any]) -> Finding:
    # Stored JSON, read leniently: a row with a missing key still shows, and
    # a failure of unknown severity counts as an error rather than vanish.
    return Finding(
        code=str(data.get("code") or data.get("check") or "check"),
        ok=bool(data.get("ok")),
        severity=data.get("severity") or ERROR,
        message=str(data.get("message", "")),
        fix=str(data.get("fix", "")),
        subject=str(data.get("subject", "")),
    )


_ORDER = {ERROR: 0, WARNING: 1, PASS: 2}


def summarize(findings: Iterable[Mapping[str, Any] | Finding]) -> Summary:
    """Rows worst first (errors, warnings, passes; each in the order checked)."""
    rows = []
    for item in findings:
        f = item if isinstance(item, Finding) else _finding(item)
        rows.append(
            CheckRow(
                name=CHECK_NAMES.get(f.code, f.code),
                code=f.code,
                subject=_subject(f.subject),
                result=_result(f),
                message=f.message,
                fix=f.fix,
            )
        )
    rows.sort(key=lambda r: _ORDER[r.result])  # stable: checked order within each
    results = [r.result for r in rows]
    return Summary(
        rows=tuple(rows),
        passed=results.count(PASS),
        warnings=results.count(WARNING),
        errors=results.count(ERROR),
    )
