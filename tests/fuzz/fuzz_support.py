"""Strategies and the parse-back oracle shared by the form and API fuzz tests.

A request is generated as data (``RequestInput``); each test turns it into
what its channel sends (the page's POST data, the API's JSON). Whatever the
portal accepts is rendered from the saved request and parsed back (YAML
``safe_load``, python-hcl2) into the values the input asked for.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.db import transaction
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st

from secrets_app.models import AccessRequest, AuditEvent, SecretGrant
from secrets_app.rendering import BindingNames, render_binding
from secrets_app.rendering.jmes import normalize_path
from secrets_app.requests.specs import spec_for_request
from tests.rendering.rendering_hostile import NASTY, hostile_text
from tests.rendering.rendering_support import parse_hcl

ACCOUNT = "287796791794"
REGION = "us-west-2"
YAML_SPECIALS = ["yes", "no", "on", "off", "null", "true", "False", "1e3", "0x1F", "012", ".inf"]

# Bounded so the module stays within a minute or two on 2 cores, and the
# same examples every run (FUZZ_RANDOM=1 FUZZ_EXAMPLES=2000 for a long hunt).
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    # The explain phase alone can take minutes on a slow machine.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


def counts() -> tuple[int, int, int]:
    return AccessRequest.objects.count(), SecretGrant.objects.count(), AuditEvent.objects.count()


@contextmanager
def rolled_back():
    """Every example starts from the same database: its writes are undone."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- values ------------------------------------------------------------------

dns_label = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")
edge_labels = st.sampled_from(["a" * 63, "a" * 64, "a" + "-" * 61 + "b", "-a", "a-", "A", "1"])
edge_subdomains = st.sampled_from(
    [
        ".".join(["a" * 63] * 4)[:253],  # 253: the limit
        ".".join(["a" * 63] * 4)[:253] + "b",  # 254
        "a..b",
        "a.b-",
        "x" * 253,
        "x" * 254,
    ]
)
unicode_text = st.text(min_size=1, max_size=20)
meta_text = st.lists(st.sampled_from(NASTY), min_size=1, max_size=4).map("".join)
huge_text = st.sampled_from(["x" * 5000, "a" * 64 * 1024, "é" * 3000, "${x}" * 1000])

name_like = st.one_of(
    dns_label, edge_labels, edge_subdomains, st.sampled_from(YAML_SPECIALS), hostile_text
)
any_text = st.one_of(
    dns_label, edge_labels, edge_subdomains, unicode_text, meta_text, hostile_text, huge_text
)

# Tokens of the line formats ("PATH as FILE", "[FILE ->] KEY [as ENV]").
aliases = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}\Z"),
    st.sampled_from([*YAML_SPECIALS, "a" * 253, "a" * 254, "..", "a/b"]),
)
keys = st.one_of(
    st.from_regex(r"\A[-._a-zA-Z0-9]{1,20}\Z"), st.sampled_from([*YAML_SPECIALS, ".", "-x"])
)
envs = st.one_of(
    st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,15}\Z"), st.sampled_from(["1X", "yes", "_"])
)
jmes_paths = st.one_of(
    st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_-]{0,15}(\.[A-Za-z_][A-Za-z0-9_]{0,8})?\Z"),
    st.sampled_from(["pass-word", "a.b", "a[0]", "'quoted'", '"x"', "../x", "${x}", "#c"]),
)


# --- the request as data ------------------------------------------------------


@dataclass
class SecretInput:
    secret: str
    alias: str = ""
    any_suffix: bool = False
    kms_key_arn: str = ""
    jmes: list[tuple[str, str]] = field(default_factory=list)
    sync_secret_name: str = ""
    sync_secret_type: str = "Opaque"
    # (object or "", key, env or "")
    sync_keys: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class RequestInput:
    service: str
    namespace: str
    containers: list[str]
    justification: str
    secrets: list[SecretInput]
    workload_kind: str = "Deployment"
    workload_name: str = ""
    service_account: str = ""
    role_name: str = ""
    mount_path: str = "/mnt/secrets-store"


dns_label_long = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
subdomain = st.lists(dns_label, min_size=1, max_size=3).map(".".join)
kms_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
sync_types = st.sampled_from(["Opaque", "Opaque", "kubernetes.io/basic-auth"])

#: What a hostile value may replace (on the request, or on its first secret).
REQUEST_TARGETS = (
    "service",
    "namespace",
    "workload_kind",
    "workload_name",
    "service_account",
    "role_name",
    "mount_path",
    "justification",
    "containers",
)
SECRET_TARGETS = (
    "secret",
    "alias",
    "kms_key_arn",
    "jmes_path",
    "jmes_alias",
    "sync_secret_name",
    "sync_secret_type",
    "sync_object",
    "sync_key",
    "sync_env",
)
bad_values = st.one_of(
    any_text,
    st.sampled_from(["", " ", "kube-system", "Opaque", "bogus", "StatefulSet", "a" * 254]),
)


@st.composite
def secret_inputs(draw) -> SecretInput:
    """A secret the form should take: full, partial or plain name, in the
    cluster's region and account, with tricky but valid files and keys."""
    name = draw(st.from_regex(r"\A[A-Za-z0-9/_+=.@-]{1,30}\Z").filter(lambda n: ".." not in n))
    kind = draw(st.sampled_from(["full", "full", "partial", "name"]))
    if kind == "full":
        suffix = draw(st.from_regex(r"\A[A-Za-z0-9]{6}\Z"))
        secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-{suffix}"
    elif kind == "partial":
        secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}"
    else:
        secret = name
    sync = draw(st.booleans())
    return SecretInput(
        secret=secret,
        alias=draw(st.one_of(st.just(""), aliases)),
        any_suffix=draw(st.booleans()),
        kms_key_arn=draw(st.sampled_from(["", "", kms_arn])),
        jmes=draw(st.lists(st.tuples(jmes_paths, aliases), max_size=2)),
        sync_secret_name=draw(dns_label) if sync else "",
        sync_secret_type=draw(sync_types),
        sync_keys=draw(
            st.lists(
                st.tuples(st.just(""), keys, st.one_of(st.just(""), envs)),
                min_size=1,
                max_size=2,
            )
        )
        if sync
        else [],
    )


@st.composite
def request_inputs(draw, max_bad: int = 2) -> RequestInput:
    """A request the form should take, then up to ``max_bad`` of its values
    replaced by hostile ones (blank, too long, unicode, control and YAML/HCL
    meta characters, huge)."""
    given = RequestInput(
        service=draw(st.one_of(dns_label, dns_label_long)),
        namespace=draw(st.one_of(dns_label, st.sampled_from(["yes", "null", "true", "a" * 63]))),
        containers=draw(st.lists(dns_label, min_size=1, max_size=3, unique=True)),
        justification=draw(any_text.map(lambda t: "Why: " + t.replace("\x00", ""))),
        secrets=draw(st.lists(secret_inputs(), min_size=1, max_size=3)),
        workload_kind=draw(st.sampled_from(["Deployment", "StatefulSet"])),
        workload_name=draw(st.one_of(st.just(""), subdomain)),
        service_account=draw(st.one_of(st.just(""), subdomain, st.just("a" * 253))),
        role_name=draw(st.one_of(st.just(""), st.from_regex(r"\A[A-Za-z0-9+=,.@_-]{1,64}\Z"))),
        mount_path=draw(
            st.one_of(
                st.just("/mnt/secrets-store"),
                st.lists(dns_label, min_size=1, max_size=3).map(lambda p: "/" + "/".join(p)),
            )
        ),
    )
    for _ in range(draw(st.integers(min_value=0, max_value=max_bad))):
        target = draw(st.sampled_from(REQUEST_TARGETS + SECRET_TARGETS))
        value = draw(bad_values)
        if target == "containers":
            given.containers = [value]
        elif target in REQUEST_TARGETS:
            setattr(given, target, value)
        else:
            _spoil_secret(given.secrets[0], target, value)
    return given


def _spoil_secret(secret: SecretInput, target: str, value: str) -> None:
    if target.startswith("jmes_"):
        path, alias = secret.jmes[0] if secret.jmes else ("username", "user")
        secret.jmes[:1] = [(value, alias) if target == "jmes_path" else (path, value)]
    elif target in ("sync_object", "sync_key", "sync_env"):
        obj, key, env = secret.sync_keys[0] if secret.sync_keys else ("", "k", "")
        part = {"sync_object": 0, "sync_key": 1, "sync_env": 2}[target]
        entry = [obj, key, env]
        entry[part] = value
        secret.sync_keys[:1] = [tuple(entry)]
    else:
        setattr(secret, target, value)


# --- the oracle ------------------------------------------------------------------


def is_line_token(value: str) -> bool:
    """Whether a value can stand in the form's line formats as one token."""
    return bool(value) and value.split() == [value] and "->" not in value


def expected_lines_meaning(secret: SecretInput, alias: str) -> tuple[list, list] | None:
    """What the JSON-key and sync lines mean, or None when a value would
    change the reading of its line (a blank, an arrow or a line break in
    it): then only "refused, or the files agree with what was saved" holds."""
    jmes = []
    for path, file_alias in secret.jmes:
        path = path.strip()
        if not path or path.splitlines() != [path] or not is_line_token(file_alias):
            return None
        jmes.append({"path": normalize_path(path), "objectAlias": file_alias})
    sync = []
    for obj, key, env in secret.sync_keys:
        tokens = [t for t in (obj, key, env) if t]
        if not is_line_token(key) or not all(is_line_token(t) for t in tokens):
            return None
        if key == "as" or env == "as" or obj == "as":
            return None  # "as" is the line format's own word
        sync.append((obj or alias, key, env))
    return jmes, sync


def parse_back(request: AccessRequest) -> dict[str, Any]:
    """Render the saved request and read every file back into plain values."""
    spec = spec_for_request(request)
    names = BindingNames.from_spec(spec)
    rendered = render_binding(spec)
    deploy = {p.rsplit("/", 1)[-1]: yaml.safe_load(t) for p, t in rendered.files["deploy"].items()}
    (tf,) = rendered.files["infra"].values()
    hcl = parse_hcl(tf)
    sa, spc = deploy["serviceaccount.yaml"], deploy["secretproviderclass.yaml"]
    (patch,) = [doc for name, doc in deploy.items() if name.endswith("-patch.yaml")]
    pod = patch["spec"]["template"]["spec"]
    objects = yaml.safe_load(spc["spec"]["parameters"]["objects"])
    role = next(r for block in hcl["resource"] for t, r in block.items() if t == "aws_iam_role")
    (role_body,) = role.values()
    policies = [
        d for block in hcl["data"] for d in block.get("aws_iam_policy_document", {}).values()
    ]
    resources = [
        res
        for doc in policies
        for statement in doc["statement"]
        for res in statement.get("resources", [])
    ]
    trust_values = [
        v
        for doc in policies
        for statement in doc["statement"]
        for condition in statement.get("condition", [])
        for v in condition["values"]
        if condition["variable"].endswith(":sub")
    ]
    env_by_container = {
        c["name"]: [
            (
                e["valueFrom"]["secretKeyRef"]["name"],
                e["valueFrom"]["secretKeyRef"]["key"],
                e["name"],
            )
            for e in c.get("env", [])
        ]
        for c in pod["containers"]
    }
    return {
        "names": names,
        "sa_name": sa["metadata"]["name"],
        "sa_namespace": sa["metadata"]["namespace"],
        "spc_name": spc["metadata"]["name"],
        "spc_namespace": spc["metadata"]["namespace"],
        "role_arn_annotation": sa["metadata"]["annotations"].get("eks.amazonaws.com/role-arn"),
        "workload": (patch["kind"], patch["metadata"]["name"], patch["metadata"]["namespace"]),
        "pod_service_account": pod["serviceAccountName"],
        "containers": [c["name"] for c in pod["containers"]],
        "mount_paths": {
            m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", [])
        },
        "objects": objects,
        "secret_objects": spc["spec"].get("secretObjects", []),
        "env_by_container": env_by_container,
        "role_name": role_body["name"],
        "resources": resources,
        "trust_sub": trust_values,
        "files": rendered.files,
    }


def grants(resource: str, typed: str, any_suffix: bool) -> bool:
    """Whether a policy resource grants exactly the secret as typed: the ARN
    itself, or (a name, a partial ARN, any_suffix) ``<ARN without suffix>-??????``."""
    arn = (
        typed
        if typed.startswith("arn:")
        else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{typed}"
    )
    if resource == typed:
        return typed.startswith("arn:") and not any_suffix and has_suffix(typed)
    if not resource.endswith("-??????"):
        return False
    stem = resource[: -len("-??????")]
    return arn == stem or (has_suffix(arn) and arn[:-7] == stem)


def has_suffix(arn: str) -> bool:
    """Ends in the 6 characters Secrets Manager appends (after a '-')."""
    tail = arn.rsplit(":secret:", 1)[-1]
    return len(tail) > 7 and tail[-7] == "-" and tail[-6:].isascii() and tail[-6:].isalnum()


def default_alias(typed: str) -> str:
    """The form's default file name: the secret's name (no suffix), last segment."""
    name = typed.rsplit(":secret:", 1)[-1] if typed.startswith("arn:") else typed
    if typed.startswith("arn:") and has_suffix(typed):
        name = name[:-7]
    return name.rsplit("/", 1)[-1]


def assert_parses_back(saved: AccessRequest, given: RequestInput) -> None:
    """The files rendered from the saved request say exactly what was asked.

    Text fields are compared after the surrounding blanks a form field
    strips; blank optional fields take their documented defaults.
    """
    got = parse_back(saved)
    service, namespace = given.service.strip(), given.namespace.strip()
    account = given.service_account.strip() or f"{service}-secrets"
    workload = given.workload_name.strip() or service
    containers = [n.strip() for n in ", ".join(given.containers).split(",") if n.strip()]
    assert (saved.service, saved.namespace) == (service, namespace)
    assert any(f"/{namespace}/{service}/" in path for path in got["files"]["deploy"])
    assert got["sa_name"] == got["spc_name"] == got["pod_service_account"] == account
    assert got["sa_namespace"] == got["spc_namespace"] == namespace
    assert got["workload"] == (given.workload_kind, workload, namespace)
    assert got["trust_sub"] == [f"system:serviceaccount:{namespace}:{account}"]
    assert got["containers"] == containers
    assert got["mount_paths"] == {given.mount_path.strip()}
    role = given.role_name.strip()
    if role:
        assert got["role_name"] == role
    assert got["role_arn_annotation"] == f"arn:aws:iam::{ACCOUNT}:role/{got['role_name']}"

    objects, synced = got["objects"], got["secret_objects"]
    assert len(objects) == len(given.secrets)
    expected_env: list[tuple[str, str, str]] = []
    expected_sync = []
    resources = list(got["resources"])
    for obj, secret in zip(objects, given.secrets, strict=True):
        typed = secret.secret.strip()
        alias = secret.alias.strip() or default_alias(typed)
        assert obj["objectName"] == typed
        assert obj["objectAlias"] == alias
        forced = not (typed.startswith("arn:") and has_suffix(typed))
        assert any(grants(r, typed, secret.any_suffix or forced) for r in resources), resources
        meaning = expected_lines_meaning(secret, alias)
        sync_name = secret.sync_secret_name.strip()
        if meaning is None:
            continue
        jmes, keys = meaning
        assert obj.get("jmesPath", []) == jmes
        if jmes:
            event("parsed back: JSON keys")
        if sync_name:
            expected_sync.append(
                {
                    "secretName": sync_name,
                    "type": secret.sync_secret_type,
                    "data": [{"objectName": o, "key": k} for o, k, _ in keys],
                }
            )
            expected_env += [(sync_name, k, e) for _, k, e in keys if e]
    if all(expected_lines_meaning(s, "x") is not None for s in given.secrets):
        assert synced == expected_sync
        if expected_sync:
            event("parsed back: synced keys")
        for name in containers:
            assert got["env_by_container"][name] == expected_env
