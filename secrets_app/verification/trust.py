"""Checks of a role's trust policy, for IRSA and for EKS Pod Identity.

The IAM evaluator in ``policy_eval`` ignores principals and conditions; a
trust policy is all principals and conditions, so it gets its own reading
here: find the statements that could let the cluster's pods in and compare
their principal, ``sub`` and ``aud`` with what the binding needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from secrets_app.verification.findings import (
    ERROR,
    POD_IDENTITY_SERVICE,
    STS_AUDIENCE,
    WARNING,
    ExpectedBinding,
    Finding,
    failed,
    passed,
)
from secrets_app.verification.policy_eval import (
    allows,
    as_list,
    covers_action,
    statements,
    wildcard_match,
)

WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"


def irsa_statement(expected: ExpectedBinding, issuer: str) -> dict[str, Any]:
    """The trust statement the binding needs (as in the guide's Validation section)."""
    return {
        "Effect": "Allow",
        "Principal": {
            "Federated": f"arn:{expected.partition}:iam::{expected.account}:oidc-provider/{issuer}"
        },
        "Action": WEB_IDENTITY,
        "Condition": {
            "StringEquals": {f"{issuer}:aud": STS_AUDIENCE, f"{issuer}:sub": expected.subject}
        },
    }


def pod_identity_statement() -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_SERVICE},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }


def _compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def _principals(statement: Mapping[str, Any], kind: str) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, Mapping):
        return as_list(principal.get(kind))
    return []


def _condition_values(statement: Mapping[str, Any], operator: str, key: str) -> list[str] | None:
    """Values under ``Condition[operator][key]``; condition keys are
    case-insensitive in IAM, operators are not."""
    block = (statement.get("Condition") or {}).get(operator) or {}
    for name, values in block.items():
        if name.lower() == key.lower():
            return as_list(values)
    return None


def _claim_status(statement: Mapping[str, Any], key: str, wanted: str) -> tuple[str, list[str]]:
    """("ok" | "broad" | "wrong" | "missing", values found) for one token claim."""
    equals = _condition_values(statement, "StringEquals", key)
    like = _condition_values(statement, "StringLike", key)
    if equals is None and like is None:
        return "missing", []
    if equals and wanted in equals:
        return "ok", equals
    if like and wanted in like:
        return "ok", like
    if like and any(wildcard_match(p, wanted) for p in like):
        return "broad", like
    return "wrong", (equals or []) + (like or [])


def _claims_named(statement: Mapping[str, Any], suffix: str) -> list[str]:
    """Every ``*:sub`` (or ``*:aud``) value, whatever issuer the key names:
    tells "wrong issuer in the condition" apart from "no condition"."""
    found = []
    for operator in ("StringEquals", "StringLike"):
        for name, values in ((statement.get("Condition") or {}).get(operator) or {}).items():
            if name.lower().endswith(suffix):
                found.extend(f"{name}={v}" for v in as_list(values))
    return found


def check_irsa_trust(
    trust: Mapping[str, Any], expected: ExpectedBinding, issuer: str
) -> list[Finding]:
    """``issuer`` is the cluster's live issuer when known, else the registered one."""
    provider = f"arn:{expected.partition}:iam::{expected.account}:oidc-provider/{issuer}"
    want = irsa_statement(expected, issuer)
    sts = statements(trust)
    web = [s for s in sts if allows(s, WEB_IDENTITY)]
    if not web:
        return [
            failed(
                "trust.web_identity",
                f"the trust policy has no Allow statement for {WEB_IDENTITY}",
                f"add this statement to the role's trust policy: {_compact(want)}",
            )
        ]
    matching = [s for s in web if provider in _principals(s, "Federated")]
    if not matching:
        found = sorted({p for s in web for p in _principals(s, "Federated")}) or ["no Federated"]
        return [
            failed(
                "trust.oidc_provider",
                f"trust policy federates {', '.join(found)}; expected {provider}",
                f"set Principal.Federated to {provider} (the cluster's OIDC provider)",
            )
        ]
    findings = [passed("trust.oidc_provider", f"trust policy federates {provider}")]

    sub_key, aud_key = f"{issuer}:sub", f"{issuer}:aud"
    rank = {"ok": 3, "broad": 2, "missing": 1, "wrong": 0}
    scored = [
        (s, _claim_status(s, sub_key, expected.subject), _claim_status(s, aud_key, STS_AUDIENCE))
        for s in matching
    ]
    best, (sub, sub_values), (aud, aud_values) = max(
        scored, key=lambda t: (rank[t[1][0]], rank[t[2][0]])
    )
    sub_fix = f'set Condition StringEquals "{sub_key}" to "{expected.subject}"'
    if sub == "ok":
        findings.append(passed("trust.sub", f"trust policy sub is {expected.subject}"))
    elif sub == "broad":
        findings.append(
            failed(
                "trust.sub",
                f"trust policy sub pattern {', '.join(sub_values)} matches {expected.subject} "
                "but also other service accounts",
                sub_fix,
                severity=WARNING,
            )
        )
    elif sub == "wrong":
        findings.append(
            failed(
                "trust.sub",
                f"trust policy sub is {', '.join(sub_values)}; expected {expected.subject}",
                sub_fix,
            )
        )
    else:
        other = _claims_named(best, ":sub")
        detail = f" (it has {', '.join(other)}, for another issuer)" if other else ""
        findings.append(
            failed(
                "trust.sub",
                f"trust policy has no {sub_key} condition{detail}; expected {expected.subject}",
                sub_fix,
            )
        )

    aud_fix = f'set Condition StringEquals "{aud_key}" to "{STS_AUDIENCE}"'
    if aud in ("ok", "broad"):
        findings.append(passed("trust.aud", f"trust policy aud is {STS_AUDIENCE}"))
    elif aud == "wrong":
        findings.append(
            failed(
                "trust.aud",
                f"trust policy aud is {', '.join(aud_values)}; expected {STS_AUDIENCE}",
                aud_fix,
            )
        )
    else:
        # Works without it, but the guide and eksctl both pin the audience.
        findings.append(
            failed(
                "trust.aud",
                f"trust policy has no {aud_key} condition; expected {STS_AUDIENCE}",
                aud_fix,
                severity=WARNING,
            )
        )
    findings.extend(_trust_denies(sts, WEB_IDENTITY))
    return findings


def _trust_denies(sts: list[Mapping[str, Any]], action: str) -> list[Finding]:
    denies = [
        s
        for s in sts
        if s.get("Effect") == "Deny" and not s.get("Condition") and covers_action(s, action)
    ]
    if not denies:
        return []
    sids = ", ".join(str(s.get("Sid") or "(no Sid)") for s in denies)
    return [
        failed(
            "trust.deny",
            f"the trust policy denies {action} without a condition (statement {sids})",
            "remove the Deny statement from the trust policy",
            severity=ERROR,
        )
    ]


# Session tags EKS Pod Identity sets, which a trust policy can require.
POD_IDENTITY_TAGS = {
    "cluster": "aws:RequestTag/eks-cluster-arn",
    "namespace": "aws:RequestTag/kubernetes-namespace",
    "service_account": "aws:RequestTag/kubernetes-service-account",
}


def _pod_identity_scope(statements_: list[Mapping[str, Any]], expected: ExpectedBinding) -> Finding:
    """Whether the role is kept to the binding's ServiceAccount: without the
    session-tag conditions any pod identity association in the account can
    use it (an IRSA role's ``sub`` condition does the same job)."""
    cluster_arn = (
        f"arn:{expected.partition}:eks:{expected.region}:{expected.account}:"
        f"cluster/{expected.cluster_name}"
    )
    wanted = {
        POD_IDENTITY_TAGS["cluster"]: cluster_arn,
        POD_IDENTITY_TAGS["namespace"]: expected.namespace,
        POD_IDENTITY_TAGS["service_account"]: expected.service_account,
    }
    condition = {"StringEquals": wanted}
    fix = f"add this Condition to the {POD_IDENTITY_SERVICE} statement: {_compact(condition)}"
    best: dict[str, str] = {}
    for statement in statements_:
        status = {key: _claim_status(statement, key, value)[0] for key, value in wanted.items()}
        if sum(s == "ok" for s in status.values()) >= sum(s == "ok" for s in best.values()):
            best = status
    wrong = [key for key, s in best.items() if s == "wrong"]
    if wrong:
        return failed(
            "trust.pod_identity_scope",
            f"the trust policy's {', '.join(wrong)} condition does not match "
            f"{expected.namespace}/{expected.service_account} in {expected.cluster_name}: "
            "the pods of this binding cannot assume the role",
            fix,
        )
    missing = [key for key, s in best.items() if s in ("missing", "broad")]
    if missing:
        return failed(
            "trust.pod_identity_scope",
            f"the trust policy does not pin {', '.join(missing)}: other pod identity "
            "associations in the account that name this role can use it",
            fix,
            severity=WARNING,
        )
    return passed(
        "trust.pod_identity_scope",
        f"trust policy is kept to {expected.namespace}/{expected.service_account} in "
        f"{expected.cluster_name}",
    )


def check_pod_identity_trust(
    trust: Mapping[str, Any], expected: ExpectedBinding | None = None
) -> list[Finding]:
    sts = statements(trust)
    ours = [
        s
        for s in sts
        if s.get("Effect") == "Allow" and POD_IDENTITY_SERVICE in _principals(s, "Service")
    ]
    want = pod_identity_statement()
    if not ours:
        found = sorted({p for s in sts for p in _principals(s, "Service")}) or ["none"]
        return [
            failed(
                "trust.pod_identity_principal",
                f"trust policy trusts services {', '.join(found)}; expected {POD_IDENTITY_SERVICE}",
                f"add this statement to the role's trust policy: {_compact(want)}",
            )
        ]
    findings = [
        passed("trust.pod_identity_principal", f"trust policy trusts {POD_IDENTITY_SERVICE}")
    ]
    missing = [a for a in want["Action"] if not any(allows(s, a) for s in ours)]
    if missing:
        findings.append(
            failed(
                "trust.pod_identity_actions",
                f"the {POD_IDENTITY_SERVICE} statement does not allow {', '.join(missing)}",
                f"set its Action to {_compact(want['Action'])}",
            )
        )
    else:
        findings.append(
            passed(
                "trust.pod_identity_actions",
                "trust policy allows sts:AssumeRole and sts:TagSession",
            )
        )
    if expected is not None:
        findings.append(_pod_identity_scope(ours, expected))
    for action in want["Action"]:
        findings.extend(_trust_denies(sts, action))
    return findings
