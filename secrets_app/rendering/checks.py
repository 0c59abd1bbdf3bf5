"""Validation of a read spec: field rules and the rules across fields.

The rules mirror what the AWS provider, the CSI driver, Kubernetes and IAM
would reject later (design/DOMAIN.md), so a request fails here, with the
field named, instead of in a pod event after two pull requests are merged.
Where the provider has its own wording, the message reuses it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from secrets_app.rendering import jmes, layout, name_rules
from secrets_app.rendering.problems import Collector, join
from secrets_app.rendering.spec_parts import ClusterSpec, RequestInfo, SecretSpec, Workload

IDENTITIES = ("irsa", "pod_identity")
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
# ssmparameter would need SSM ARNs and ssm:GetParameters: not offered yet.
OBJECT_TYPES = ("secretsmanager",)

EKS_CLUSTER_NAME = name_rules.strict(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
FILE_PERMISSION = name_rules.strict(r"[0-7]{4}")
MAX_TAG_VALUE = 256
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def check_tag_value(value: str) -> str | None:
    """IAM tag values: letters, digits, spaces and ``_.:/=+-@``, up to 256."""
    if len(value) > MAX_TAG_VALUE:
        return f"At most {MAX_TAG_VALUE} characters (it goes into an IAM tag)."
    for ch in value:
        if ch not in _TAG_PUNCTUATION and unicodedata.category(ch)[0] not in "LNZ":
            return (
                f"The character {ch!r} cannot go into an IAM tag: use letters, digits, "
                "spaces and _ . : / = + - @."
            )
    return None


def check_cluster_name(value: str) -> str | None:
    if not EKS_CLUSTER_NAME.match(value):
        return (
            "An EKS cluster name has 1 to 100 letters, digits, '-' and '_', "
            "starting with a letter or digit."
        )
    return None


def check_cluster(c: ClusterSpec, col: Collector) -> None:
    col.check("cluster.name", check_cluster_name(c.name))
    col.check("cluster.account_id", name_rules.check_account_id(c.account_id))
    col.check("cluster.region", name_rules.check_region(c.region))
    if c.identity not in IDENTITIES:
        col.check("cluster.identity", f"Use one of: {', '.join(IDENTITIES)}.")
    if c.oidc_issuer is None:
        if c.identity == "irsa":
            col.check("cluster.oidc_issuer", "IRSA needs the cluster's OIDC issuer.")
    else:
        message = name_rules.check_oidc_issuer(c.oidc_issuer)
        if message is None and f".{c.region}." not in c.oidc_issuer:
            message = f"The OIDC issuer is not in the cluster's region {c.region}."
        col.check("cluster.oidc_issuer", message)
    for key in ("deploy", "infra"):
        path = f"cluster.layout.{key}"
        if not col.has_problems_under(path):
            # All reasons at once, joined: one problem per field.
            col.add(path, " ".join(layout.check_template(getattr(c.layout, key))))


def check_request(request: RequestInfo, col: Collector) -> None:
    if request.requester is not None:
        col.check("request.requester", check_tag_value(request.requester))
    if isinstance(request.id, str):
        col.check("request.id", check_tag_value(request.id))
    elif isinstance(request.id, int) and request.id < 0:
        col.check("request.id", "The request id cannot be negative.")


def check_names(
    col: Collector,
    *,
    service: str,
    namespace: str,
    service_account: str | None,
    role_name: str | None,
    mount_path: str,
) -> None:
    """The names the binding gives (or derives) for its Kubernetes and IAM objects."""
    col.check("service", name_rules.check_dns1123_label(service, "service name"))
    col.check("namespace", name_rules.check_dns1123_label(namespace, "namespace"))
    if service_account is not None:
        col.check(
            "service_account",
            name_rules.check_dns1123_subdomain(service_account, "ServiceAccount name"),
        )
    if role_name is not None:
        col.check("role_name", name_rules.check_role_name(role_name))
    col.check("mount_path", name_rules.check_mount_path(mount_path))


def check_built_names(col: Collector, *, prefix: str, suffix: str, names: dict[str, str]) -> None:
    """The kustomization's ``namePrefix``/``nameSuffix`` and the names the build
    gives with them (``names``: spec path -> the name as the files write it).

    A built name that breaks the rules is reported on the affix, since the
    plain name was checked on its own field."""
    col.check("name_prefix", name_rules.check_name_affix(prefix, "name prefix"))
    col.check("name_suffix", name_rules.check_name_affix(suffix, "name suffix"))
    if col.has_problems_under("name_prefix") or col.has_problems_under("name_suffix"):
        return
    if not (prefix or suffix):
        return
    for path, name in names.items():
        if not name or col.has_problems_under(path):
            continue
        built = name_rules.built_name(prefix, name, suffix)
        message = name_rules.check_dns1123_subdomain(built, f"built name '{built}'")
        if message:
            col.check("name_prefix" if prefix else "name_suffix", message)
            return


def check_workload(w: Workload, col: Collector) -> None:
    if w.kind not in WORKLOAD_KINDS:
        col.check("workload.kind", f"Use one of: {', '.join(WORKLOAD_KINDS)}.")
    col.check("workload.name", name_rules.check_dns1123_subdomain(w.name, "workload name"))
    if not w.containers:
        col.check("workload.containers", "Name at least one container.")
    seen: set[str] = set()
    for i, name in enumerate(w.containers):
        path = join("workload.containers", i)
        col.check(path, name_rules.check_dns1123_label(name, "container name"))
        if name in seen:
            col.check(path, f"Each container is listed once: '{name}' appears twice.")
        seen.add(name)


def check_secrets(cluster: ClusterSpec, secrets: Sequence[SecretSpec], col: Collector) -> None:
    # Mounted file names: every alias and JMES alias. secretObjects may only
    # name these, and two of them may not be equal (same file).
    aliases: dict[str, str] = {}
    for i, s in enumerate(secrets):
        base = join("secrets", i)
        for path, alias in [(join(base, "alias"), s.alias)] + [
            (join(join(join(base, "jmes"), j), "alias"), e.alias) for j, e in enumerate(s.jmes)
        ]:
            col.check(path, name_rules.check_alias(alias))
            if alias in aliases:
                col.check(path, f"found duplicate object alias {alias} (also at {aliases[alias]})")
            aliases.setdefault(alias, path)

    secret_names: dict[str, str] = {}
    env_names: dict[str, str] = {}
    for i, s in enumerate(secrets):
        base = join("secrets", i)
        _check_secret_ref(cluster, s, base, col)
        if s.object_type not in OBJECT_TYPES:
            col.check(join(base, "object_type"), "Only secretsmanager objects are supported.")
        if s.kms_key_arn is not None:
            col.check(join(base, "kms_key_arn"), name_rules.check_kms_key_arn(s.kms_key_arn))
            _check_key_place(cluster, s, base, col)
        if s.file_permission is not None and not FILE_PERMISSION.match(s.file_permission):
            col.check(
                join(base, "file_permission"),
                "filePermission must be four octal digits, like 0440.",
            )
        for j, e in enumerate(s.jmes):
            col.check(join(join(join(base, "jmes"), j), "path"), jmes.check_path(e.path))
        if s.sync is None:
            continue
        sp = join(base, "sync")
        name = s.sync.secret_name
        col.check(join(sp, "secret_name"), name_rules.check_dns1123_subdomain(name, "Secret name"))
        if name in secret_names:
            col.check(
                join(sp, "secret_name"),
                f"The Secret '{name}' is synced twice: {secret_names[name].removesuffix('.sync')} "
                f"already syncs into {name}; list all its keys there (a key may read any "
                "mounted file).",
            )
        secret_names.setdefault(name, sp)
        if s.sync.type not in name_rules.SYNC_SECRET_TYPES:
            col.check(join(sp, "type"), f"Use one of: {', '.join(name_rules.SYNC_SECRET_TYPES)}.")
        keys: set[str] = set()
        for k, key in enumerate(s.sync.keys):
            kp = join(join(sp, "keys"), k)
            if key.object not in aliases:
                col.check(
                    join(kp, "object"),
                    f"file matching objectName {key.object} not found in the pod: "
                    "use an alias or a JMES alias of this binding.",
                )
            col.check(join(kp, "key"), name_rules.check_secret_key_name(key.key))
            if key.key in (".", ".."):
                col.check(join(kp, "key"), "A Secret key cannot be '.' or '..'.")
            if key.key in keys:
                col.check(
                    join(kp, "key"),
                    f"Each key of the Kubernetes Secret is listed once: '{key.key}' appears twice.",
                )
            keys.add(key.key)
            if key.env is not None:
                ep = join(kp, "env")
                col.check(ep, name_rules.check_env_var_name(key.env))
                if key.env in env_names:
                    # Every env var goes into each chosen container.
                    other = env_names[key.env]
                    col.check(
                        ep,
                        f"The environment variable {key.env} is already set: it is also set at "
                        f"{other}, and names must be unique in each container.",
                    )
                env_names.setdefault(key.env, ep)


def _check_key_place(c: ClusterSpec, s: SecretSpec, base: str, col: Collector) -> None:
    """A secret's key is in the secret's own account and region (and Secrets
    Manager only uses keys of the secret's region): a key elsewhere is not
    this secret's, and granting it would hand the role another key."""
    path = join(base, "kms_key_arn")
    key = name_rules.kms_key_place(s.kms_key_arn or "")
    if key is None or col.has_problems_under(path) or col.has_problems_under(join(base, "arn")):
        return
    try:
        ref = name_rules.parse_secret_ref(s.arn)
    except name_rules.SecretRefError:
        return
    if not ref.is_arn and (
        col.has_problems_under("cluster.region") or col.has_problems_under("cluster.account_id")
    ):
        return
    # A plain name is looked up in the cluster's account and region.
    secret = (ref.partition, ref.region, ref.account) if ref.is_arn else None
    secret = secret or (c.partition, c.region, c.account_id)
    if key != secret:
        _, key_region, key_account = key
        _, region, account = secret
        col.check(
            path,
            f"The KMS key is in account {key_account}, region {key_region}; the secret is in "
            f"account {account}, region {region}. Give the key that encrypts this secret: it is "
            "in the secret's own account and region.",
        )


def _check_secret_ref(c: ClusterSpec, s: SecretSpec, base: str, col: Collector) -> None:
    path = join(base, "arn")
    try:
        ref = name_rules.parse_secret_ref(s.arn)
    except name_rules.SecretRefError as exc:
        col.check(path, str(exc))
        return
    if not ref.is_arn or col.has_problems_under("cluster.region"):
        return
    if ref.partition != c.partition:
        col.check(path, f"The ARN is in partition {ref.partition}, the cluster in {c.partition}.")
    if ref.region != c.region:
        col.check(path, f"ARN region must match region {c.region}: {s.arn}")
    if ref.account != c.account_id and not col.has_problems_under("cluster.account_id"):
        col.warn(
            path,
            f"secret is in account {ref.account}, cluster is in {c.account_id}: "
            "needs a resource policy and a customer-managed KMS key",
        )
    if not ref.is_full_arn:
        col.warn(
            path,
            "Partial ARN (no 6-character suffix): the provider needs it to match exactly "
            "one secret; the policy grants <name>-??????.",
        )
    elif ref.suffix_may_be_name:
        col.warn(
            path,
            f"The ARN ends in '-{ref.suffix}', which may be Secrets Manager's 6-character "
            f"suffix of the secret {ref.name} or the end of the name {ref.whole_name} (a partial "
            f"ARN): the policy grants both, {ref.name} with this suffix and "
            f"{ref.whole_name}-??????. File it with the AWS lookup on to have it resolved.",
        )
