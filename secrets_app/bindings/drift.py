"""Drift: what the portal expects of a binding against what the cluster and
AWS actually have.

Pure functions over the health sweep's ``ClusterSnapshot`` (no extra cluster
request, no database): the sweep already lists every ServiceAccount,
SecretProviderClass and pod, so drift costs nothing but CPU. Each difference
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
from dataclasses import dataclass
from typing import Any

import yaml

from secrets_app.health.collector import ClusterSnapshot

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
# An ``objects`` parameter longer than this is not parsed (a real one is a few
# hundred bytes per secret); it is reported as unreadable instead.
MAX_OBJECTS_TEXT = 64 * 1024
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class ExpectedSecret:
    arn: str
    name: str
    alias: str


@dataclass(frozen=True, slots=True)
class Expectation:
    """One binding as the portal recorded it, plus its latest AWS findings."""

    id: int | str
    namespace: str
    service_account: str
    secret_provider_class: str
    workload_kind: str
    workload_name: str
    role_arn: str
    pod_identity: bool = False
    secrets: tuple[ExpectedSecret, ...] = ()
    # Findings of the latest verification that reached AWS; None: never verified.
    aws_findings: Sequence[Mapping[str, Any]] | None = None


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


def check(snapshot: ClusterSnapshot, exp: Expectation) -> list[dict[str, Any]]:
    """Every difference for one binding: cluster first, then AWS."""
    return [
        *service_account_drift(snapshot, exp),
        *class_drift(snapshot, exp),
        *workload_drift(snapshot, exp),
        *aws_drift(exp.aws_findings),
    ]


def has_drift(records: Iterable[Mapping[str, Any]]) -> bool:
    return any(not r.get("unknown") for r in records)


def service_account_drift(snapshot: ClusterSnapshot, exp: Expectation) -> list[dict[str, Any]]:
    ns, name = exp.namespace, exp.service_account
    if (ns, name) not in snapshot.service_accounts:
        return [
            record(
                "sa-missing",
                SA,
                f"ServiceAccount {ns}/{name}",
                "not found",
                f"The ServiceAccount {name} does not exist in namespace {ns}.",
            )
        ]
    if exp.pod_identity or not exp.role_arn:
        # Pod Identity: the association carries the role, no annotation is expected.
        return []
    annotation = snapshot.service_accounts[(ns, name)]
    if not annotation:
        return [
            record(
                "sa-annotation-missing",
                SA,
                exp.role_arn,
                "no eks.amazonaws.com/role-arn annotation",
                f"The ServiceAccount {name} has no role annotation: pods cannot assume the role.",
            )
        ]
    if annotation != exp.role_arn:
        return [
            record(
                "sa-annotation-mismatch",
                SA,
                exp.role_arn,
                annotation,
                f"The ServiceAccount {name} is annotated with another role than the binding's.",
            )
        ]
    return []


def class_drift(snapshot: ClusterSnapshot, exp: Expectation) -> list[dict[str, Any]]:
    ns, name = exp.namespace, exp.secret_provider_class
    cls = snapshot.classes.get((ns, name))
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
    if cls.use_pod_identity != exp.pod_identity:
        want, have = ("true", "absent or false") if exp.pod_identity else ("absent", "true")
        out.append(
            record(
                "spc-identity",
                SPC,
                f"usePodIdentity {want}",
                f"usePodIdentity {have}",
                f"The SecretProviderClass {name} does not match the cluster's identity mode "
                f"({'Pod Identity' if exp.pod_identity else 'IRSA'}).",
            )
        )
    objects = parse_objects(cls.objects)
    if objects is None:
        out.append(
            record(
                "spc-objects-unreadable",
                SPC,
                _describe(exp.secrets),
                "unreadable objects parameter",
                f"The objects parameter of {name} could not be read as a YAML list.",
            )
        )
        return out
    return out + _object_drift(name, exp.secrets, objects)


def parse_objects(text: str) -> list[tuple[str, str]] | None:
    """``parameters.objects`` as (objectName, objectAlias) pairs; None when
    it is not a YAML list of mappings (or absurdly long)."""
    if not text.strip():
        return []
    if len(text) > MAX_OBJECTS_TEXT:
        return None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return None
    if not isinstance(data, list):
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


def workload_drift(snapshot: ClusterSnapshot, exp: Expectation) -> list[dict[str, Any]]:
    key = (exp.namespace, exp.workload_name)
    spc, sa = exp.secret_provider_class, exp.service_account
    what = f"{exp.workload_kind} {exp.workload_name}"
    pods = [p for p in snapshot.pods_by_workload.get(key, ()) if p.active]
    plain = snapshot.plain_pods_by_workload.get(key)
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
    mounting = [p for p in pods if any(c == spc for _, c in p.volumes)]
    other_class = [p for p in pods if all(c != spc for _, c in p.volumes)]
    if other_class:
        classes = sorted({c for p in other_class for _, c in p.volumes})
        out.append(
            record(
                "workload-volume-class",
                WORKLOAD,
                f"volume with secretProviderClass {spc}",
                "secretProviderClass " + ", ".join(classes),
                f"{len(other_class)} pod(s) of {what} mount another class "
                f"(e.g. {other_class[0].name}).",
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
    wrong_sa = [p for p in mounting if p.service_account != sa]
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
