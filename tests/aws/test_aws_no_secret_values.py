"""The portal never reads a secret's value (PORTAL.md, security rules).

Two guards: a dynamic one (drive every adapter method and verification
against moto through the recording proxy, then look at what went over the
wire) and a static one (no code in ``secrets_app/`` or ``portal/`` names the
value-reading API, except as an IAM action string in a policy).
"""

from __future__ import annotations

import io
import json
import re
import tokenize

from secrets_app.integrations.aws import ALLOWED_OPERATIONS, AwsAdapter
from secrets_app.verification import verify_binding
from tests.aws.aws_fakes import Recorded
from tests.aws.aws_world import CLUSTER, NAMESPACE, ROLE, SECRET, SERVICE_ACCOUNT, build_guide_world
from tests.support.aws import VALUE_READS
from tests.support.paths import ROOT

#: Every public adapter method, with how this test calls it. A new method
#: fails ``test_every_adapter_method_is_exercised`` until it is added here.
EXERCISE = {
    "describe_secret": lambda a, w: a.describe_secret(SECRET, with_resource_policy=True),
    "search_secrets": lambda a, w: a.search_secrets("dcp"),
    "list_secret_rotations": lambda a, w: list(a.list_secret_rotations()),
    "secret_rotation": lambda a, w: a.secret_rotation(SECRET),
    "list_secrets": lambda a, w: a.list_secrets(),
    "describe_cluster": lambda a, w: a.describe_cluster(CLUSTER),
    "get_oidc_provider": lambda a, w: a.get_oidc_provider(w.issuer),
    "oidc_provider_exists": lambda a, w: a.oidc_provider_exists(w.issuer),
    "get_role": lambda a, w: a.get_role(ROLE),
    "list_role_policies": lambda a, w: a.list_role_policies(ROLE),
    "get_managed_policy": lambda a, w: a.get_managed_policy(w.policy_arn),
    "list_pod_identity_associations": lambda a, w: a.list_pod_identity_associations(
        CLUSTER, NAMESPACE, SERVICE_ACCOUNT
    ),
}


def test_every_adapter_method_is_exercised():
    public = {
        name
        for name in dir(AwsAdapter)
        if not name.startswith("_") and callable(getattr(AwsAdapter, name))
    }
    assert public == set(EXERCISE)


def test_no_request_reads_a_secret_value(clients, adapter, proxy):
    world = build_guide_world(clients, customer_key=True)
    for call in EXERCISE.values():
        call(adapter, world)
    verify_binding(adapter, world.expected())
    verify_binding(adapter, world.expected(identity="pod_identity"))

    sent = proxy.operations()
    assert len(sent) > 20
    assert not VALUE_READS & set(sent)
    # Everything else on the wire is an allowed operation (EKS is a REST
    # protocol, recorded by path).
    assert {op for op in sent if not op.startswith("eks:")} <= ALLOWED_OPERATIONS


def test_the_wire_check_would_see_a_value_read():
    """The recorder names a value read the way the assertion above expects,
    without this test having to read a value."""
    rec = Recorded(
        method="POST",
        path="/",
        headers={
            "x-amz-target": "secretsmanager.GetSecretValue",
            "authorization": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-west-2/"
            "secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
        },
        body=json.dumps({"SecretId": SECRET}).encode(),
    )
    assert rec.operation in VALUE_READS


# -- static ------------------------------------------------------------------

_SNAKE = re.compile(r"(batch_)?get_secret_value", re.IGNORECASE)
# The API's name anywhere except as the IAM action "secretsmanager:...".
_CAMEL = re.compile(r"(?<!secretsmanager:)(?<![A-Za-z])(Batch)?GetSecretValue")


def value_reads_in(source: str) -> list[str]:
    """Lines of Python source that call or name the value-reading API.
    Comments are ignored; IAM action strings (``secretsmanager:GetSecretValue``)
    are allowed, since policies and diagnosis texts must name the action."""
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        name_hit = tok.type == tokenize.NAME and _SNAKE.fullmatch(tok.string)
        text_hit = tok.type == tokenize.STRING and (
            _SNAKE.search(tok.string) or _CAMEL.search(tok.string)
        )
        if name_hit or text_hit:
            found.append(f"{tok.start[0]}: {tok.line.strip()}")
    return found


def test_the_static_check_catches_value_reads():
    bad = [
        "client.get_secret_value(SecretId='x')",
        "getattr(client, 'get_secret_value')(SecretId='x')",
        "client.batch_get_secret_value(SecretIdList=['x'])",
        "client._make_api_call('GetSecretValue', {'SecretId': 'x'})",
        "headers = {'X-Amz-Target': 'secretsmanager.GetSecretValue'}",
    ]
    for line in bad:
        assert value_reads_in(line + "\n"), line
    good = [
        "ACTION = 'secretsmanager:GetSecretValue'",
        "{'Action': ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']}",
        "TEXT = 'is not authorized to perform: secretsmanager:GetSecretValue on resource'",
        "x = 1  # the portal never calls GetSecretValue",
        "client.describe_secret(SecretId='x')",
    ]
    for line in good:
        assert not value_reads_in(line + "\n"), line


def test_project_code_never_reads_secret_values():
    files = sorted(p for top in ("secrets_app", "portal") for p in (ROOT / top).rglob("*.py"))
    assert len(files) > 5
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in files
        if (hits := value_reads_in(p.read_text(encoding="utf-8")))
    }
    assert offenders == {}
