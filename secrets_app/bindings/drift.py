"""Drift: what the portal expects of a binding against what the cluster and
AWS actually have.

Pure functions over what the health join found of each binding
(``BindingHealth``: the ServiceAccount and its annotation, the class, the
workload's pods, all looked up once in the sweep's snapshot) and what the
portal recorded (``BindingTarget``): no extra cluster request, no database,
and no second reading of the cluster that could disagree with the health
verdict. Each difference
is a record ``{"code", "where", "expected", "actual", "message", "unknown"}``;
``unknown`` records say what could not be checked (no pod to look at) and do
not count as drift.

Workloads are judged from their pods, not from the Deployment objects: pods
are what actually run (a Deployment's template may be mid-rollout, and
StatefulSets, DaemonSets or Rollouts would each need another list call), and
the sweep already has them. The price is that a workload scaled to zero cannot
be checked; that is reported as unknown, never as "no drift".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from secrets_app.bindings.import_classes import load_objects
from secrets_app.health.collector import ClusterSnapshot
from secrets_app.health.join import evaluate_one
from secrets_app.health.types import BindingHealth, BindingTarget, ExpectedSecret

__all__ = [
    "ExpectedSecret",
    "aws_drift",
    "check",
    "class_drift",
    "from_health",
    "has_drift",
    "merge_aws",
    "parse_objects",
    "record",
    "service_account_drift",
    "workload_drift",
]

SA = "serviceaccount"
SPC = "secretproviderclass"
WORKLOAD = "workload"
AWS = "aws"
#: Where each record comes from, in the order the binding page lists them.
WHERE_LABELS = {
    SA: "ServiceAccount",
    SPC: "SecretProviderClass",
    WORKLOAD: "Workload",
    AWS: "AWS",
}


def record(
    code: str, where: str, expected: str, actual: str, message: str, *, unknown: bool = False
) -> dict[str, Any]:
    return {
        "code": code,
        "where": where,
        "expected": expected,
        "actual": actual,
        "message": message,
        "unknown": unknown,
    }


def from_health(
    target: BindingTarget,
    health: BindingHealth,
    aws_findings: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every difference for one binding, from what the join found (``health``)
    and the findings of its latest verification that reached AWS (None: never
    verified): cluster first, then AWS."""
    return [
        *service_account_drift(target, health),
        *class_drift(target, health),
        *workload_drift(target, health),
        *aws_drift(aws_findings),
    ]


def check(
    snapshot: ClusterSnapshot,
    target: BindingTarget,
    aws_findings: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """``from_health`` for one binding on its own: the join, then drift."""
    return from_health(target, evaluate_one(snapshot, target), aws_findings)


def has_drift(records: Iterable[Mapping[str, Any]]) -> bool:
    return any(not r.get("unknown") for r in records)


def service_account_drift(target: BindingTarget, health: BindingHealth) -> list[dict[str, Any]]:
    """The join's ServiceAccount findings (``expects_annotation`` says when a
    role annotation is due), as records."""
    ns, name = target.namespace, target.service_account
    if "sa-renamed" in health.findings:
        renamed = health.renamed_service_account
        return [
            record(
                "sa-renamed",
                SA,
                f"ServiceAccount {ns}/{name}",
                f"built as {renamed}",
                f"The kustomization renamed the ServiceAccount {name} to {renamed}; "
                "the role trusts the name the request gave.",
            )
        ]
    if "sa-missing" in health.findings:
        return [
            record(
                "sa-missing",
                SA,
                f"ServiceAccount {ns}/{name}",
                "not found",
                f"The ServiceAccount {name} does not exist in namespace {ns}.",
            )
        ]
    if "sa-annotation-missing" in health.findings:
        return [
            record(
                "sa-annotation-missing",
                SA,
                target.role_arn,
                "no eks.amazonaws.com/role-arn annotation",
                f"The ServiceAccount {name} has no role annotation: pods cannot assume the role.",
            )
        ]
    if "sa-annotation-mismatch" in health.findings:
        return [
            record(
                "sa-annotation-mismatch",
                SA,
                target.role_arn,
                health.role_annotation,
                f"The ServiceAccount {name} is annotated with another role than the binding's.",
            )
        ]
    return []


def class_drift(target: BindingTarget, health: BindingHealth) -> list[dict[str, Any]]:
    ns, name = target.namespace, target.secret_provider_class
    cls = health.class_info
    if cls is None:
        return [
            record(
                "spc-missing",
                SPC,
                f"SecretProviderClass {ns}/{name}",
                "not found",
                f"The SecretProviderClass {name} does not exist in namespace {ns}.",
            )
        ]
    out = []
    if cls.provider != "aws":
        out.append(
            record(
                "spc-provider",
                SPC,
                "aws",
                cls.provider or "(none)",
                f"The SecretProviderClass {name} does not use the aws provider.",
            )
        )
    if cls.use_pod_identity != target.pod_identity:
        want, have = ("true", "absent or false") if target.pod_identity else ("absent", "true")
        out.append(
            record(
                "spc-identity",
                SPC,
                f"usePodIdentity {want}",
                f"usePodIdentity {have}",
                f"The SecretProviderClass {name} does not match the cluster's identity mode "
                f"({'Pod Identity' if target.pod_identity else 'IRSA'}).",
            )
        )
    objects = parse_objects(cls.objects)
    if objects is None:
        out.append(
            record(
                "spc-objects-unreadable",
                SPC,
                _describe(target.secrets),
                "unreadable objects parameter",
                f"The objects parameter of {name} could not be read as a YAML list.",
            )
        )
        return out
    return out + _object_drift(name, target.secrets, objects)


def parse_objects(text: str) -> list[tuple[str, str]] | None:
    """``parameters.objects`` as (objectName, objectAlias) pairs; None when
    it is not a YAML list of mappings (or too long to read)."""
    if not text.strip():
        return []
    data, _ = load_objects(text)
    if data is None:
        return None
    pairs = []
    for item in data:
        if not isinstance(item, dict):
            return None
        pairs.append((str(item.get("objectName", "")), str(item.get("objectAlias", "") or "")))
    return pairs


def _object_drift(
    spc: str, secrets: Sequence[ExpectedSecret], objects: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    out = []
    unmatched = list(objects)
    for secret in secrets:
        # The class may name the secret by ARN (as the portal writes it) or by name.
        found = next((o for o in unmatched if o[0] == secret.arn), None) or next(
            (o for o in unmatched if o[0] == secret.name), None
        )
        if found is None:
            out.append(
                record(
                    "spc-object-missing",
                    SPC,
                    f"{secret.arn} as {secret.alias}",
                    "not in the class",
                    f"The SecretProviderClass {spc} does not mount {secret.name}.",
                )
            )
            continue
        unmatched.remove(found)
        if found[1] and secret.alias and found[1] != secret.alias:
            out.append(
                record(
                    "spc-object-alias",
                    SPC,
                    secret.alias,
                    found[1],
                    f"{secret.name} is mounted under another file name than the binding's.",
                )
            )
    for name, alias in unmatched:
        out.append(
            record(
                "spc-object-extra",
                SPC,
                "not in the binding",
                f"{name} as {alias}" if alias else name,
                f"The SecretProviderClass {spc} mounts {name or '(no name)'}, "
                "which the binding does not grant.",
            )
        )
    return out


def workload_drift(target: BindingTarget, health: BindingHealth) -> list[dict[str, Any]]:
    spc, sa = target.secret_provider_class, target.service_account
    what = f"{target.workload_kind} {target.workload_name}"
    pods, strays, plain = health.workload_pods, health.stray_pods, health.plain_pods
    if not pods and plain is None:
        return [
            record(
                "workload-no-pods",
                WORKLOAD,
                f"pods of {what} mounting {spc}",
                "no running pods",
                f"{what}: no running pods to check the volume.",
                unknown=True,
            )
        ]
    out = []
    if strays:  # the join's volume-class-mismatch
        classes = sorted({c for p in strays for _, c in p.volumes})
        out.append(
            record(
                "workload-volume-class",
                WORKLOAD,
                f"volume with secretProviderClass {spc}",
                "secretProviderClass " + ", ".join(classes),
                f"{len(strays)} pod(s) of {what} mount another class (e.g. {strays[0].name}).",
            )
        )
    if plain is not None:
        out.append(
            record(
                "workload-volume-missing",
                WORKLOAD,
                f"volume with secretProviderClass {spc}",
                "no secrets-store volume",
                f"{plain.count} pod(s) of {what} mount no secrets-store volume "
                f"(e.g. {', '.join(n for n, _ in plain.names)}).",
            )
        )
    wrong_sa = [p for p in pods if p not in strays and p.service_account != sa]
    if wrong_sa:
        accounts = sorted({p.service_account for p in wrong_sa})
        out.append(
            record(
                "workload-service-account",
                WORKLOAD,
                f"serviceAccountName {sa}",
                "serviceAccountName " + ", ".join(accounts),
                f"{len(wrong_sa)} pod(s) of {what} mount {spc} with another ServiceAccount "
                f"(e.g. {wrong_sa[0].name}): they get that account's role, not the binding's.",
            )
        )
    return out


def aws_drift(findings: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Failed error-level findings of the latest verification that reached AWS."""
    out = []
    for f in findings or ():
        if not isinstance(f, Mapping) or f.get("ok") or f.get("severity", "error") != "error":
            continue
        subject = str(f.get("subject") or "")
        message = str(f.get("message") or "")
        out.append(
            record(
                str(f.get("code") or "aws"),
                AWS,
                str(f.get("fix") or ""),
                message,
                f"{message} ({subject})" if subject else message,
            )
        )
    return out


def merge_aws(records: Iterable[Mapping[str, Any]], aws: list[dict[str, Any]]) -> list[dict]:
    """Replace the AWS part of stored records, keeping what the last sweep saw."""
    return [dict(r) for r in records if r.get("where") != AWS] + aws


def _describe(secrets: Sequence[ExpectedSecret]) -> str:
    return ", ".join(f"{s.arn} as {s.alias}" for s in secrets) or "(no secrets)"
