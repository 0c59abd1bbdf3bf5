"""Values that only look right: Arabic-Indic digits, "rôle", fullwidth
letters, a trailing newline. Every pattern that validates input is anchored
(``\\A...\\Z``) and ASCII-only, so each is refused on its field, alike by the
model validators, the filing service, the API and the page.

A trailing newline never reaches the filing service from the page or the API:
both strip the blanks around a value (Django forms and DRF do), and so does
the filing service itself, so it is filed without. It is refused where
nothing strips it: the model validators and ``render_binding``'s spec file.
"""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from secrets_app.models import AccessRequest, Cluster, SecretGrant
from secrets_app.requests.filing import FilingInvalid, request_check
from secrets_app.requests.specs import spec_data
from tests.filing.test_filing_adapters import BODY, through_api, through_page

pytestmark = pytest.mark.django_db

ARABIC_12 = "\u0662\u0668\u0667\u0667\u0669\u0666\u0667\u0669\u0661\u0667\u0669\u0664"
FULLWIDTH_DEPLOY = "\uff44\uff45\uff50\uff4c\uff4f\uff59"
ARN = BODY["secrets"][0]["secret"]
KEY = "arn:aws:kms:us-west-2:287796791794:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# request path -> value; each is refused on that path (a secret's lists on
# the list's field).
LOOKALIKES = {
    "service": "data-access-servic\u0665",
    "namespace": FULLWIDTH_DEPLOY,
    "workload_name": "w\u00f4rkload",
    "containers": ["app\u0661"],
    "service_account": "sa-\u0661\u0662",
    "role_name": "r\u00f4le",
    "mount_path": "/mnt/s\u00e9crets",
    "secrets[0].secret": ARN.replace("287796791794", ARABIC_12),
    "secrets[0].alias": "r\u00f4le",
    "secrets[0].sync_secret_name": "db-\u0661",
    "secrets[0].sync_keys": [{"key": "rds_password", "env": "DB_PASSW\u00d6RD"}],
    "secrets[1].kms_key_arn": KEY.replace("287796791794", ARABIC_12),
}
LOOKALIKE_ROLES = ["role\u0661\u0662", "\uff52\uff4f\uff4c\uff45", "r\u00f4le"]


def body_with(path: str, value) -> dict:
    body = copy.deepcopy(BODY)
    if path.startswith("secrets["):
        index, name = int(path[8]), path.split(".", 1)[1]
        body["secrets"][index][name] = value
    else:
        body[path] = value
    return body


def through_service(body: dict, user) -> dict[str, list[str]]:
    with pytest.raises(FilingInvalid) as refused:
        request_check(requester=user, data=body)
    found: dict[str, list[str]] = {}
    for problem in refused.value.problems:
        path = problem.path
        if path.startswith("secrets["):  # secrets[0].sync_keys[0].env -> secrets[0].sync_keys
            base, rest = path.split(".", 1)
            path = f"{base}.{rest.split('[', 1)[0].split('.', 1)[0]}"
        else:
            path = path.split("[", 1)[0]
        found.setdefault(path, []).append(problem.message)
    return found


@pytest.mark.parametrize(("path", "value"), LOOKALIKES.items(), ids=LOOKALIKES.keys())
def test_lookalikes_are_refused_on_their_field_everywhere(path, value, requester, cluster):
    body = body_with(path, value)

    service = through_service(copy.deepcopy(body), requester)
    api = through_api(copy.deepcopy(body), requester)
    page = through_page(copy.deepcopy(body), requester, cluster)

    assert list(service) == [path], service
    assert list(api) == [path], api
    assert page == api
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("role", LOOKALIKE_ROLES)
def test_role_names_are_ascii(role, requester, cluster):
    assert list(through_api(body_with("role_name", role), requester)) == ["role_name"]


@pytest.mark.parametrize("digits", ["\u0661", "\u00b2", "\uff11"])
def test_a_cluster_id_is_ascii_digits(digits, requester, cluster):
    # Arabic-Indic digits once found the cluster (int() reads them); a
    # superscript two was a 500 (isdigit() is true, int() refuses it).
    arabic = str(cluster.pk).translate({ord("0") + i: 0x0660 + i for i in range(10)})
    for given in (digits, arabic):
        found = through_api(body_with("cluster", given), requester)
        assert list(found) == ["cluster"], found
        assert "no active cluster" in found["cluster"][0]


@pytest.mark.parametrize("pk", ["\u00b2", "\u0661"])
def test_a_request_id_in_the_url_is_ascii_digits(pk, requester, client):
    client.force_login(requester)
    assert client.get(f"/api/requests/{pk}/").status_code == 404


# --- the model validators ----------------------------------------------------

# request path -> (model, field, a valid value)
MODEL_FIELDS = {
    "service": (AccessRequest, "service", "data-access-service"),
    "namespace": (AccessRequest, "namespace", "deploy"),
    "workload_name": (AccessRequest, "workload_name", "data-access-service"),
    "service_account": (AccessRequest, "service_account", "data-access-service-secrets"),
    "role_name": (AccessRequest, "role_name", "data-access-service-secrets"),
    "mount_path": (AccessRequest, "mount_path", "/mnt/secrets-store"),
    "secrets[0].alias": (SecretGrant, "alias", "dcp-db-password"),
    "secrets[0].sync_secret_name": (SecretGrant, "sync_secret_name", "dcp-db-password"),
    "secrets[1].kms_key_arn": (SecretGrant, "kms_key_arn", KEY),
}
CLUSTER_VALUES = {
    "name": ["janus\u0661", "janus-dev\n"],
    "aws_account_id": [ARABIC_12, "287796791794\n"],
    "region": ["us-west-\u0662", "us-west-2\n"],
    "oidc_issuer": [
        "oidc.eks.us-west-2.amazonaws.com/id/C0EB\u0661",
        "oidc.eks.us-west-2.amazonaws.com/id/C0EB\n",
    ],
}


def run_validators(model, name: str, value) -> None:
    model._meta.get_field(name).run_validators(value)


@pytest.mark.parametrize("path", MODEL_FIELDS, ids=MODEL_FIELDS)
def test_the_model_validators_refuse_lookalikes_and_a_trailing_newline(path):
    model, name, valid = MODEL_FIELDS[path]
    run_validators(model, name, valid)
    for bad in (LOOKALIKES[path], valid + "\n"):
        with pytest.raises(ValidationError):
            run_validators(model, name, bad)


@pytest.mark.parametrize("name", CLUSTER_VALUES)
def test_the_cluster_fields_refuse_lookalikes_and_a_trailing_newline(name, cluster):
    for bad in CLUSTER_VALUES[name]:
        with pytest.raises(ValidationError):
            run_validators(Cluster, name, bad)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("eks_cluster_name", "janus\u0661"),
        ("eks_cluster_name", "janus-dev\n"),
        ("aws_role_arn", f"arn:aws:iam::{ARABIC_12}:role/reader"),
        ("aws_role_arn", "arn:aws:iam::287796791794:role/r\u00f4le"),
        ("aws_role_arn", "arn:aws:iam::287796791794:role/reader\n"),
    ],
)
def test_the_clusters_eks_name_and_role_are_checked(name, value, cluster):
    setattr(cluster, name, value)
    with pytest.raises(ValidationError) as refused:
        cluster.full_clean()
    assert list(refused.value.message_dict) == [name]


# --- a trailing newline -------------------------------------------------------

NEWLINES = ["service", "namespace", "role_name", "service_account", "mount_path"]


@pytest.mark.parametrize("path", NEWLINES)
def test_a_trailing_newline_is_stripped_by_the_page_the_api_and_the_service(
    path, requester, cluster
):
    value = {
        "service": "data-access-service",
        "namespace": "deploy",
        # The one role name a requester may type: the derived one.
        "role_name": "janus-dev_deploy_data-access-service",
        "service_account": "data-access-service-secrets",
        "mount_path": "/mnt/secrets-store",
    }[path]
    checked = request_check(requester=requester, data=body_with(path, value + "\n"))
    assert checked.fields[path] == value
    assert "\n" not in json.dumps(checked.fields, default=str)


@pytest.mark.parametrize(
    ("change", "spec_path"),
    [
        (lambda d: d.update(namespace="deploy\n"), "namespace"),
        (lambda d: d.update(service="data-access-service\n"), "service"),
        (lambda d: d.update(role_name="data-access-service-secrets\n"), "role_name"),
        (lambda d: d["secrets"][0].update(alias="dcp-db-password\n"), "secrets[0].alias"),
        (lambda d: d["cluster"].update(account_id="287796791794\n"), "cluster.account_id"),
        # (The issuer is then not in the cluster's region either.)
        (lambda d: d["cluster"].update(region="us-west-2\n"), "cluster.region cluster.oidc_issuer"),
    ],
)
def test_render_binding_refuses_a_trailing_newline(change, spec_path, requester, tmp_path):
    data = spec_data(
        {
            "service": "data-access-service",
            "namespace": "deploy",
            "workload_kind": "Deployment",
            "workload_name": "data-access-service",
            "containers": ["app"],
            "service_account": "data-access-service-secrets",
            "mount_path": "/mnt/secrets-store",
        },
        [{"secret": ARN, "alias": "dcp-db-password"}],
        cluster=Cluster(
            name="janus-dev",
            aws_account_id="287796791794",
            region="us-west-2",
            oidc_issuer="oidc.eks.us-west-2.amazonaws.com/id/C0EB4AEEDFD18CBBCBD0686222057E0A",
        ),
    )
    change(data)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(data))
    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "render_binding", str(spec_file), "--out", str(tmp_path / "out"), stderr=stderr
        )
    paths = [line.split(": ", 1)[0] for line in stderr.getvalue().splitlines()]
    assert paths == spec_path.split()
    assert not (tmp_path / "out").exists()
