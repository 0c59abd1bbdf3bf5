"""What the AWS adapter answers (``aws.py``): plain records of what AWS said,
metadata only, and the small parsers of ARNs and policy documents."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

CURRENT_STAGE = "AWSCURRENT"


@dataclass(frozen=True)
class SecretInfo:
    arn: str
    name: str
    account: str
    region: str
    kms_key_id: str | None
    customer_managed_kms: bool
    version_stages: dict[str, list[str]] = field(default_factory=dict)
    has_resource_policy: bool | None = None  # None: not asked


@dataclass(frozen=True)
class SecretSummary:
    arn: str
    name: str
    account: str
    region: str
    description: str = ""
    kms_key_id: str | None = None
    last_changed: str | None = None  # ISO 8601


@dataclass(frozen=True)
class SecretRotation:
    """A secret's current version and rotation schedule (metadata only)."""

    arn: str
    name: str
    current_version: str | None  # the VersionId staged AWSCURRENT
    rotation_enabled: bool = False
    schedule: str = ""  # "rate(30 days)", "cron(...)" or "every 30 days"
    last_rotated: datetime.datetime | None = None
    next_rotation: datetime.datetime | None = None
    last_changed: datetime.datetime | None = None

    @classmethod
    def from_response(cls, item: dict[str, Any], stages_key: str) -> SecretRotation:
        stages = item.get(stages_key) or {}
        current = next((v for v, s in stages.items() if CURRENT_STAGE in s), None)
        rules = item.get("RotationRules") or {}
        days = rules.get("AutomaticallyAfterDays")
        schedule = rules.get("ScheduleExpression") or (f"every {days} days" if days else "")
        return cls(
            arn=item["ARN"],
            name=item.get("Name", ""),
            current_version=current,
            rotation_enabled=bool(item.get("RotationEnabled")),
            schedule=schedule,
            last_rotated=item.get("LastRotatedDate"),
            next_rotation=item.get("NextRotationDate"),
            last_changed=item.get("LastChangedDate"),
        )


@dataclass(frozen=True)
class ClusterInfo:
    name: str
    arn: str
    version: str
    status: str
    oidc_issuer: str  # without https://
    account: str
    region: str
    endpoint: str = ""


@dataclass(frozen=True)
class OidcProviderInfo:
    arn: str
    issuer: str
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]


@dataclass(frozen=True)
class RoleInfo:
    name: str
    arn: str
    trust_policy: dict[str, Any]
    path: str = "/"
    permissions_boundary_arn: str | None = None


@dataclass(frozen=True)
class RolePolicy:
    kind: Literal["attached", "inline", "boundary"]
    name: str
    document: dict[str, Any]
    arn: str | None = None
    version_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} policy {self.arn or self.name}"


@dataclass(frozen=True)
class PodIdentityAssociation:
    association_id: str
    association_arn: str
    cluster: str
    namespace: str
    service_account: str
    role_arn: str


def policy_document(raw: Any) -> dict[str, Any]:
    """IAM returns documents URL-encoded; botocore usually decodes them, but
    not every code path (or fake) does, so accept both."""
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(unquote(text))


def arn_parts(arn: str) -> tuple[str, str, str, str, str]:
    """(partition, service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn}")
    return parts[1], parts[2], parts[3], parts[4], parts[5]


def strip_scheme(issuer: str) -> str:
    return issuer.removeprefix("https://").removeprefix("http://").rstrip("/")
