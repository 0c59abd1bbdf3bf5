"""The versions the demo's pods mount: those its AWS (moto) serves.

A mounted pod's ``SecretProviderClassPodStatus`` names each object's
VersionId; the sweep compares it with the secret's ``AWSCURRENT``
(``health/rotation.py``). Made-up versions would make every demo binding
"stale", so the fake clusters mount what moto serves, and the story has one
binding whose secret was rotated while its pods kept the old version."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from secrets_app.integrations.aws import AwsAdapter
from secrets_app.integrations.errors import IntegrationError
from secrets_app.rendering import name_rules

#: The sandbox binding whose secret the story rotates: its pods keep the old
#: version (the driver runs without rotation), so it turns "stale".
STALE_SERVICE = "warehouse-loader"


def _name(object_id: str) -> str:
    try:
        return name_rules.parse_secret_ref(object_id).name
    except name_rules.SecretRefError:
        return object_id


def mount_versions(objects: Iterable[dict[str, Any]], current: Callable[[str], str | None]) -> None:
    """Set each mounted object's version to ``current(<secret name or ARN>)``
    (kept where it says None)."""
    for obj in objects:
        if obj.get("kind") != "SecretProviderClassPodStatus":
            continue
        for entry in obj["status"].get("objects") or []:
            version = current(entry["id"])
            if version:
                entry["version"] = version


def from_names(versions: Mapping[str, str]) -> Callable[[str], str | None]:
    """``current`` for ``mount_versions`` from a name -> VersionId map."""
    return lambda object_id: versions.get(_name(object_id))


def from_aws(adapter: AwsAdapter) -> Callable[[str], str | None]:
    """``current`` for ``mount_versions`` from the demo's AWS (DescribeSecret:
    metadata only), once per secret; None where it cannot say."""
    cache: dict[str, str | None] = {}

    def current(object_id: str) -> str | None:
        if object_id not in cache:
            try:
                cache[object_id] = adapter.secret_rotation(object_id).current_version
            except IntegrationError:
                cache[object_id] = None
        return cache[object_id]

    return current
