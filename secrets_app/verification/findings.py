"""What verification expects (``ExpectedBinding``) and what it reports
(``Finding``). Both are plain data that round-trips through JSON, because the
portal stores findings with the binding and rebuilds the expectation from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Identity = Literal["irsa", "pod_identity"]

ERROR: Severity = "error"
WARNING: Severity = "warning"
INFO: Severity = "info"

STS_AUDIENCE = "sts.amazonaws.com"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
#: A secret ARN pattern that survives re-creation: the name and any 6-character suffix.
SUFFIX_WILDCARD = "-??????"


@dataclass(frozen=True)
class Finding:
    """One check's outcome. ``ok`` findings are kept too, so the page can show
    what was verified; their severity is ``info``. ``subject`` is the secret
    (as written in ``ExpectedBinding.secret_arns``) for per-secret checks,
    since those codes repeat once per secret; empty otherwise."""

    code: str
    ok: bool
    severity: Severity
    message: str
    fix: str = ""
    subject: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            **{k: data[k] for k in ("code", "ok", "severity", "message") if k in data},
            fix=data.get("fix", ""),
            subject=data.get("subject", ""),
        )


def passed(code: str, message: str, subject: str = "") -> Finding:
    return Finding(code, True, INFO, message, "", subject)


def failed(
    code: str, message: str, fix: str, subject: str = "", severity: Severity = ERROR
) -> Finding:
    return Finding(code, False, severity, message, fix, subject)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any check failed at error level (warnings don't fail a binding)."""
    return any(not f.ok and f.severity == ERROR for f in findings)


@dataclass(frozen=True)
class ExpectedBinding:
    """The binding as the portal rendered it.

    ``secret_arns`` are full ARNs or ``arn:...:secret:<name>-??????`` patterns.
    ``kms_key_arns`` maps a secret ARN (as given in ``secret_arns``) to the ARN
    of its customer-managed KMS key, when the portal knows one.
    ``oidc_issuer`` is the registered issuer without ``https://``.
    """

    account: str
    region: str
    cluster_name: str
    role_name: str
    namespace: str
    service_account: str
    secret_arns: tuple[str, ...]
    oidc_issuer: str = ""
    identity: Identity = "irsa"
    partition: str = "aws"
    kms_key_arns: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.identity not in ("irsa", "pod_identity"):
            raise ValueError(f"identity must be 'irsa' or 'pod_identity', not {self.identity!r}")
        # Accept lists (from JSON) and an issuer pasted with its scheme.
        object.__setattr__(self, "secret_arns", tuple(self.secret_arns))
        object.__setattr__(self, "kms_key_arns", dict(self.kms_key_arns))
        issuer = self.oidc_issuer.removeprefix("https://").rstrip("/")
        object.__setattr__(self, "oidc_issuer", issuer)

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{self.role_name}"

    @property
    def oidc_provider_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:oidc-provider/{self.oidc_issuer}"

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["secret_arns"] = list(self.secret_arns)
        data["kms_key_arns"] = dict(self.kms_key_arns)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExpectedBinding:
        return cls(**dict(data))
