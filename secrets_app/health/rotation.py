"""Stale versions: pods that still mount a version of a secret other than the
one Secrets Manager serves as ``AWSCURRENT``.

The driver fetches a secret when a pod starts; it fetches again only when it
runs with ``enableSecretRotation``, and synced Secrets and env vars change
only when pods restart. So after a rotation pods can run the old value for
days and nobody sees it until the old one stops working. Each pod's
``SecretProviderClassPodStatus`` says which version it mounted
(``objects[].version``, the VersionId); ``ListSecrets`` says which one is
current for 100 secrets a call (``SecretVersionsToStages``), ``DescribeSecret``
for one secret of another account or region. Metadata only: never a value.

The AWS provider names each object by its file name (the alias, or a JMES
alias); other setups by the ``objectName`` (ARN or name): both are matched.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secrets_app.integrations.aws import AwsAdapter, SecretRotation, arn_parts
from secrets_app.integrations.errors import IntegrationError

CURRENT = "current"
STALE_IN_GRACE = "stale-grace"
STALE = "stale"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class BoundSecret:
    arn: str  # as granted: a full ARN, a partial one, or a name
    name: str
    alias: str

    def answers_to(self, object_id: str) -> bool:
        return object_id in (self.alias, self.arn, self.name)


@dataclass(frozen=True)
class SecretVersions:
    """One secret of a binding, as its pods mount it."""

    alias: str
    arn: str
    state: str  # CURRENT, STALE_IN_GRACE, STALE or UNKNOWN
    current_version: str | None = None
    stale_pods: tuple[tuple[str, str], ...] = ()  # (pod, the version it mounts)
    rotated_at: datetime.datetime | None = None  # when AWSCURRENT last moved
    rotation_enabled: bool = False
    schedule: str = ""
    next_rotation: datetime.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "arn": self.arn,
            "state": self.state,
            "current_version": self.current_version,
            "stale_pods": [list(p) for p in self.stale_pods],
            "rotated_at": _iso(self.rotated_at),
            "rotation_enabled": self.rotation_enabled,
            "schedule": self.schedule,
            "next_rotation": _iso(self.next_rotation),
        }


def _iso(when: datetime.datetime | None) -> str | None:
    return when.isoformat() if when else None


class CurrentVersions:
    """The ``AWSCURRENT`` version of every secret a sweep needs, read once per
    sweep: one ``ListSecrets`` scan of the cluster's account and region (its
    calls grow with the account's secrets / 100, not with the bindings), and a
    ``DescribeSecret`` for each secret elsewhere or not listed. A secret that
    cannot be read is ``None``: its pods' state is unknown, never "current"."""

    def __init__(self, adapter: AwsAdapter, *, account: str, region: str) -> None:
        self.adapter = adapter
        self.account = account
        self.region = region
        self.calls = 0

    def load(self, secrets: Iterable[BoundSecret]) -> dict[str, SecretRotation | None]:
        wanted = {s.arn: s for s in secrets}
        found: dict[str, SecretRotation | None] = {}
        if any(self._listed_here(s) for s in wanted.values()):
            found.update(self._scan(list(wanted.values())))
        for arn, secret in wanted.items():
            if arn not in found:
                found[arn] = self._describe(secret)
        return found

    def _listed_here(self, secret: BoundSecret) -> bool:
        if not secret.arn.startswith("arn:"):
            return True  # a plain name lives in the cluster's account and region
        _, _, region, account, _ = arn_parts(secret.arn)
        return (account, region) == (self.account, self.region)

    def _scan(self, secrets: Sequence[BoundSecret]) -> dict[str, SecretRotation | None]:
        by_arn: dict[str, SecretRotation] = {}
        by_name: dict[str, SecretRotation] = {}
        listed = 0
        try:
            for item in self.adapter.list_secret_rotations():
                listed += 1
                by_arn[item.arn] = item
                by_name[item.name] = item
        except IntegrationError:
            self.calls += 1
            # The listing failed: everything it would have answered is unknown
            # (asking each secret on its own would hit the same wall).
            return {s.arn: None for s in secrets if self._listed_here(s)}
        self.calls += max(1, math.ceil(listed / 100))
        found: dict[str, SecretRotation | None] = {}
        for s in secrets:
            hit = by_arn.get(s.arn) or by_name.get(s.name)
            if hit is not None:
                found[s.arn] = hit
        return found

    def _describe(self, secret: BoundSecret) -> SecretRotation | None:
        self.calls += 1
        try:
            return self.adapter.secret_rotation(secret.arn)
        except IntegrationError:
            return None


def secret_versions(
    secrets: Sequence[BoundSecret],
    pod_objects: Iterable[tuple[str, Iterable[tuple[str, str]]]],
    current: Mapping[str, SecretRotation | None],
    *,
    now: datetime.datetime,
    grace: datetime.timedelta,
) -> list[SecretVersions]:
    """Each secret the binding's pods mount, with the pods whose version is
    not the current one. ``pod_objects``: (pod, [(object id, version)]) of
    the mounted pods. Pods within ``grace`` of the rotation may still be
    catching up (the driver polls every two minutes by default)."""
    mounted: dict[str, list[tuple[str, str]]] = {}
    for pod, objects in pod_objects:
        for object_id, version in objects:
            secret = next((s for s in secrets if s.answers_to(object_id)), None)
            if secret is not None and (pod, version) not in mounted.get(secret.arn, ()):
                mounted.setdefault(secret.arn, []).append((pod, version))
    result = []
    for secret in secrets:
        pods = mounted.get(secret.arn)
        if not pods:
            continue
        info = current.get(secret.arn)
        if info is None or info.current_version is None:
            result.append(SecretVersions(secret.alias, secret.arn, UNKNOWN))
            continue
        stale = tuple(sorted((p, v) for p, v in pods if v != info.current_version))
        rotated_at = info.last_rotated or info.last_changed
        state = CURRENT
        if stale:
            within = rotated_at is not None and now - rotated_at < grace
            state = STALE_IN_GRACE if within else STALE
        result.append(
            SecretVersions(
                alias=secret.alias,
                arn=secret.arn,
                state=state,
                current_version=info.current_version,
                stale_pods=stale,
                rotated_at=rotated_at,
                rotation_enabled=info.rotation_enabled,
                schedule=info.schedule,
                next_rotation=info.next_rotation,
            )
        )
    return result


def stale_since(versions: Iterable[SecretVersions]) -> datetime.datetime | None:
    """When the binding became stale (the earliest rotation its pods missed),
    or None when no secret is stale past the grace period."""
    stale = [v for v in versions if v.state == STALE]
    if not stale:
        return None
    return min(v.rotated_at or datetime.datetime.min.replace(tzinfo=datetime.UTC) for v in stale)
