"""One SecretProviderClass of the AWS provider, read as untrusted input.

The ``objects`` parameter is YAML inside a string: it is parsed with
``safe_load`` (pure Python, so that deep nesting ends in a RecursionError
rather than a crash) within size and count limits, must be a list of
mappings with an ``objectName``, and every value kept is a bounded string
(pages escape it). Nothing here raises on bad data: it becomes a problem
the import page shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from secrets_app.rendering.name_rules import (
    MAX_SUBDOMAIN,
    REGION,
    SecretRefError,
    check_dns1123_label,
    check_dns1123_subdomain,
    parse_secret_ref,
)

PROVIDER = "aws"
#: Larger ``objects`` strings are not parsed: a real class names a few secrets.
MAX_OBJECTS_BYTES = 32 * 1024
MAX_OBJECTS = 100
MAX_KEYS = 50
MAX_SYNCED = 20
#: Length of a foreign value quoted in a problem message.
MAX_SHOWN = 100
MAX_ARN = 2048
MAX_NAME = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Defaults:
    """Where a secret named without an ARN lives: the cluster's partition and
    account, and the class's region (else the cluster's)."""

    partition: str
    region: str
    account: str


@dataclass(slots=True)
class ClassRecord:
    """One SecretProviderClass of the AWS provider, as much as could be read."""

    namespace: str
    name: str
    region: str
    use_pod_identity: bool
    objects: list[dict[str, Any]]
    synced_secrets: list[str]
    problems: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "region": self.region,
            "use_pod_identity": self.use_pod_identity,
            "objects": self.objects,
            "synced_secrets": self.synced_secrets,
            "problems": self.problems,
        }


def shown(value: Any) -> str:
    """A foreign value made safe to quote in a message: one line, bounded."""
    text = value if isinstance(value, str) else type(value).__name__
    text = _CONTROL.sub("?", text)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def is_label(value: Any) -> bool:
    return isinstance(value, str) and check_dns1123_label(value) is None


def is_subdomain(value: Any) -> bool:
    return isinstance(value, str) and check_dns1123_subdomain(value) is None


def load_objects(text: str) -> tuple[list[Any] | None, str]:
    """An ``objects`` parameter as the YAML list it should be, or None and
    why not. Import and drift both read the parameter through here: bounded
    in size, parsed by the pure-Python safe loader."""
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_OBJECTS_BYTES:
        return None, f"The objects parameter is too large to read ({size} bytes)."
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return None, f"The objects parameter is not valid YAML: {shown(first)}"
    if not isinstance(data, list):
        return None, "The objects parameter must be a YAML list of objects."
    return data, ""


def parse_objects(text: Any, defaults: Defaults) -> tuple[list[dict[str, Any]], list[str]]:
    """The secrets an ``objects`` parameter names ({"arn", "name", "alias",
    "keys"} each) and what is wrong with it. Never raises: a bad entry
    becomes a problem and is skipped."""
    if text is None or text == "":
        return [], ["The class has no objects parameter."]
    if not isinstance(text, str):
        return [], ["The objects parameter is not a string."]
    data, problem = load_objects(text)
    if data is None:
        return [], [problem]
    problems: list[str] = []
    if len(data) > MAX_OBJECTS:
        problems.append(f"Only the first {MAX_OBJECTS} of {len(data)} objects are read.")
    secrets: list[dict[str, Any]] = []
    aliases: set[str] = set()
    for number, entry in enumerate(data[:MAX_OBJECTS], 1):
        secret = _parse_object(entry, number, defaults, problems)
        if secret is None:
            continue
        if secret["alias"] in aliases:
            problems.append(f"Object {number}: duplicate alias {shown(secret['alias'])}.")
            continue
        aliases.add(secret["alias"])
        secrets.append(secret)
    return secrets, problems


def _parse_object(
    entry: Any, number: int, defaults: Defaults, problems: list[str]
) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        problems.append(f"Object {number} is not a mapping.")
        return None
    name = entry.get("objectName")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"Object {number} has no objectName.")
        return None
    kind = entry.get("objectType")
    if kind not in (None, "", "secretsmanager"):
        problems.append(
            f"Object {number} ({shown(name)}) is of type {shown(kind)}; "
            "only Secrets Manager secrets are imported."
        )
        return None
    try:
        ref = parse_secret_ref(name)
    except SecretRefError as error:
        problems.append(f"Object {number} ({shown(name)}): {error}")
        return None
    alias = entry.get("objectAlias")
    if alias is None or alias == "":
        # The provider names the file after objectName, '/' translated to '_'.
        alias = name.strip().replace("/", "_")
    elif not isinstance(alias, str) or "../" in alias or not alias.strip():
        problems.append(f"Object {number} ({shown(name)}) has an invalid objectAlias.")
        return None
    if ref.is_arn:
        arn = ref.raw
    else:
        arn = f"arn:{defaults.partition}:secretsmanager:{defaults.region}:{defaults.account}"
        arn += f":secret:{ref.name}"
    return {
        "arn": arn[:MAX_ARN],
        "name": ref.name[:MAX_NAME],
        "alias": alias[:MAX_SUBDOMAIN],
        "keys": _jmes_keys(entry.get("jmesPath"), number, name, problems),
    }


def _jmes_keys(raw: Any, number: int, name: str, problems: list[str]) -> list[str]:
    """The file names of single JSON keys mounted from the secret."""
    if raw is None:
        return []
    ok = isinstance(raw, list) and all(
        isinstance(e, dict)
        and isinstance(e.get("path"), str)
        and isinstance(e.get("objectAlias"), str)
        for e in raw[:MAX_KEYS]
    )
    if not ok:
        problems.append(
            f"Object {number} ({shown(name)}): jmesPath must be a list of {{path, objectAlias}}."
        )
        return []
    return [e["objectAlias"][:MAX_SUBDOMAIN] for e in raw[:MAX_KEYS]]


def read_class(item: Any, defaults: Defaults) -> ClassRecord | None:
    """A class of the AWS provider with a valid name, else ``None``."""
    if not isinstance(item, dict):
        return None
    meta, spec = item.get("metadata"), item.get("spec")
    if not isinstance(meta, dict) or not isinstance(spec, dict) or spec.get("provider") != PROVIDER:
        return None
    namespace, name = meta.get("namespace"), meta.get("name")
    if not is_label(namespace) or not is_subdomain(name):
        return None
    problems: list[str] = []
    params = spec.get("parameters")
    if not isinstance(params, dict):
        params = {}
    region = params.get("region")
    if not isinstance(region, str) or not REGION.match(region):
        if region not in (None, ""):
            problems.append(f"The region parameter {shown(region)} is not an AWS region.")
        region = defaults.region
    pod_identity = params.get("usePodIdentity")
    use_pod_identity = isinstance(pod_identity, str) and pod_identity.lower() == "true"
    objects, object_problems = parse_objects(
        params.get("objects"), Defaults(defaults.partition, region, defaults.account)
    )
    return ClassRecord(
        namespace=namespace,
        name=name,
        region=region,
        use_pod_identity=use_pod_identity,
        objects=objects,
        synced_secrets=_synced_names(spec.get("secretObjects")),
        problems=problems + object_problems,
    )


def _synced_names(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    names = (e.get("secretName") for e in raw[:MAX_SYNCED] if isinstance(e, dict))
    return sorted({n for n in names if is_subdomain(n)})
