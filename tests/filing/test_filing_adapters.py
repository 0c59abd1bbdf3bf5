"""One table of bad requests, run through every way in: the request page,
``POST /api/requests/`` and (for rules about the binding) ``render_binding``.
Each adapter only reads its own format; the filing service judges, so the
same input gives the same problems, at the same fields, with the same words.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from secrets_app.api.inputs import RequestCreateInput, SecretInput
from secrets_app.models import AccessRequest, SecretGrant
from secrets_app.requests.filing.draft import read_draft
from secrets_app.requests.filing.paths import field_of, from_spec
from secrets_app.requests.specs import spec_data
from secrets_app.web.forms import RequestPage
from secrets_app.web.forms.requests import AccessRequestForm, SecretGrantForm
from tests.factories import AccessRequestFactory
from tests.support.request_bodies import SECOND_ARN, VALID_BODY

pytestmark = pytest.mark.django_db

OTHER_ACCOUNT_ARN = SECOND_ARN.replace("287796791794", "111122223333")
KMS_PREFIX = "arn:aws:kms"
BODY = VALID_BODY


def change(**top: Any) -> Callable[[dict], None]:
    return lambda body: body.update(top)


def change_secret(index: int, **fields: Any) -> Callable[[dict], None]:
    return lambda body: body["secrets"][index].update(fields)


def both(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def apply(body: dict) -> None:
        for each in changes:
            each(body)

    return apply


# name: (change to the valid body, fields with a problem, a rule about the
# binding, so the renderer's command refuses it too)
CASES = {
    # (Names given in full where a default would come from the broken field:
    # a spec file for the command has no defaults taken from other fields.)
    "bad service name": (
        change(
            service="Data_Access",
            workload_name="data-access-service",
            service_account="data-access-service-secrets",
        ),
        ["service"],
        True,
    ),
    "bad service name, defaults left blank": (change(service="Data_Access"), ["service"], False),
    "no service": (change(service=""), ["service"], False),
    "system namespace": (change(namespace="kube-system"), ["namespace"], False),
    "bad container": (change(containers=["app", "App"]), ["containers"], True),
    "container twice": (change(containers=["app", "app"]), ["containers"], True),
    "relative mount path": (change(mount_path="mnt/secrets"), ["mount_path"], True),
    "bad role name": (change(role_name="bad role!"), ["role_name"], True),
    "bad ServiceAccount": (change(service_account="Bad.SA"), ["service_account"], True),
    "blank justification": (change(justification="  "), ["justification"], False),
    "expiry in the past": (change(expires_on="2001-01-01"), ["expires_on"], False),
    "unknown cluster": (change(cluster="nowhere"), ["cluster"], False),
    "not a secret ARN": (
        change_secret(0, secret="arn:aws:s3:::bucket", alias="dcp-db-password"),
        ["secrets[0].secret"],
        True,
    ),
    "not a secret ARN, alias left blank": (
        change_secret(0, secret="arn:aws:s3:::bucket"),
        ["secrets[0].secret"],
        False,
    ),
    "ARN in another region": (
        change_secret(1, secret=SECOND_ARN.replace("us-west-2", "eu-west-1")),
        ["secrets[1].secret"],
        True,
    ),
    "another account, not acknowledged, no KMS key": (
        change_secret(1, secret=OTHER_ACCOUNT_ARN),
        ["secrets[1].secret", "secrets[1].kms_key_arn"],
        False,
    ),
    "duplicate alias": (change_secret(1, alias="dcp-db-password"), ["secrets[1].alias"], True),
    "bad alias": (change_secret(1, alias=".hidden"), ["secrets[1].alias"], True),
    "bad JMES path": (
        change_secret(1, jmes=[{"path": "a[", "alias": "partner-a"}]),
        ["secrets[1].jmes"],
        True,
    ),
    "JMES path with ../": (
        change_secret(1, jmes=[{"path": "../up", "alias": "partner-a"}]),
        ["secrets[1].jmes"],
        True,
    ),
    "bad env var": (
        change_secret(0, sync_keys=[{"key": "rds_password", "env": "1DB"}]),
        ["secrets[0].sync_keys"],
        True,
    ),
    "env var twice": (
        change_secret(
            0, sync_keys=[{"key": "a", "env": "DB_PASSWORD"}, {"key": "b", "env": "DB_PASSWORD"}]
        ),
        ["secrets[0].sync_keys"],
        True,
    ),
    "key reads no mounted file": (
        change_secret(0, sync_keys=[{"object": "nope", "key": "k"}]),
        ["secrets[0].sync_keys"],
        True,
    ),
    "keys without a Secret name": (
        change_secret(0, sync_secret_name=""),
        ["secrets[0].sync_secret_name"],
        False,
    ),
    "one Secret synced twice": (
        change_secret(1, sync_secret_name="dcp-db-password", sync_keys=[{"key": "k"}]),
        ["secrets[1].sync_secret_name"],
        True,
    ),
    "bad KMS key ARN": (
        change_secret(1, kms_key_arn="alias/mine"),
        ["secrets[1].kms_key_arn"],
        True,
    ),
    # Issue #14, item 4: a secret's key is in the secret's account and region.
    "KMS key in another account": (
        change_secret(1, kms_key_arn=f"{KMS_PREFIX}:us-west-2:111122223333:key/1234abcd"),
        ["secrets[1].kms_key_arn"],
        True,
    ),
    "KMS key in another region": (
        change_secret(1, kms_key_arn=f"{KMS_PREFIX}:eu-west-1:287796791794:key/1234abcd"),
        ["secrets[1].kms_key_arn"],
        True,
    ),
    "KMS key of a secret named, in another account": (
        change_secret(
            1, secret="dcp-api-key", kms_key_arn=f"{KMS_PREFIX}:us-west-2:111122223333:key/x"
        ),
        ["secrets[1].kms_key_arn"],
        True,
    ),
    # Issue #14, item 5: what a binding may not mount over or set.
    "mount over /etc": (change(mount_path="/etc/app"), ["mount_path"], True),
    "mount over the token": (
        change(mount_path="/var/run/secrets/kubernetes.io/serviceaccount"),
        ["mount_path"],
        True,
    ),
    "mount above the token": (change(mount_path="/var"), ["mount_path"], True),
    "mount over /usr, spelt oddly": (change(mount_path="//usr//lib/"), ["mount_path"], True),
    "LD_PRELOAD from a secret": (
        change_secret(0, sync_keys=[{"key": "rds_password", "env": "LD_PRELOAD"}]),
        ["secrets[0].sync_keys"],
        True,
    ),
    "NODE_OPTIONS from a secret": (
        change_secret(0, sync_keys=[{"key": "rds_password", "env": "NODE_OPTIONS"}]),
        ["secrets[0].sync_keys"],
        True,
    ),
    "https_proxy from a secret": (
        change_secret(0, sync_keys=[{"key": "rds_password", "env": "https_proxy"}]),
        ["secrets[0].sync_keys"],
        True,
    ),
    "several at once": (
        both(change(namespace="Deploy"), change_secret(1, alias="a/b"), change(justification="")),
        ["namespace", "secrets[1].alias", "justification"],
        False,
    ),
}


def flat(errors: dict[str, list[str]], secrets: list[dict[str, list[str]]]) -> dict[str, list]:
    found = {name: list(messages) for name, messages in errors.items() if messages}
    for i, secret in enumerate(secrets):
        found.update({f"secrets[{i}].{name}": list(m) for name, m in secret.items() if m})
    return found


# --- the three ways in -------------------------------------------------------


def through_api(body: dict, user) -> dict[str, list]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/requests/", body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    secrets = errors.pop("secrets", [])
    errors = {("" if k == "non_field_errors" else k): v for k, v in errors.items()}
    return flat(errors, secrets)


def _sync_line(key: dict) -> str:
    line = f"{key['object']} -> {key['key']}" if key.get("object") else key["key"]
    return line + (f" as {key['env']}" if key.get("env") else "")


def page_post(body: dict, cluster) -> dict[str, str]:
    """What a browser sends for this body from the request page: every
    field, with the page's initial values where the body has none (the
    mount path), and the cluster select's id."""
    post = {"mount_path": "/mnt/secrets-store", "workload_kind": "Deployment"}
    post.update({k: v for k, v in body.items() if isinstance(v, str) and k != "cluster"})
    post["cluster"] = str(cluster.pk) if body["cluster"] == cluster.name else body["cluster"]
    post["containers"] = ", ".join(body["containers"])
    post["secrets-TOTAL_FORMS"] = str(len(body["secrets"]))
    post["secrets-INITIAL_FORMS"] = "0"
    for i, secret in enumerate(body["secrets"]):
        fields = {k: v for k, v in secret.items() if isinstance(v, str)}
        fields["jmes"] = "\n".join(f"{e['path']} as {e['alias']}" for e in secret.get("jmes", []))
        fields["sync_keys"] = "\n".join(_sync_line(k) for k in secret.get("sync_keys", []))
        post.update({f"secrets-{i}-{k}": v for k, v in fields.items()})
    return post


def through_page(body: dict, user, cluster) -> dict[str, list]:
    page = RequestPage(page_post(body, cluster), requester=user)
    assert page.check() is None
    errors = {("" if k == "__all__" else k): v for k, v in page.form.errors.items()}
    if page.formset.non_form_errors():
        errors["secrets"] = list(page.formset.non_form_errors())
    return flat(errors, [f.errors for f in page.formset.forms])


def through_command(body: dict, user, cluster, tmp_path) -> dict[str, list]:
    draft = read_draft(body)
    data = spec_data(draft.fields, [s.grant() for s in draft.secrets], cluster=cluster)
    data["request"] = {"id": None, "requester": user.get_username()}
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(data, default=str))
    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "render_binding", str(spec_file), "--out", str(tmp_path / "out"), stderr=stderr
        )
    assert not (tmp_path / "out").exists()
    found: dict[str, list] = {}
    for line in stderr.getvalue().splitlines():
        spec_path, message = line.split(": ", 1)
        path = from_spec(spec_path)
        assert path is not None, line
        field = field_of(path)
        key = field.name if field.secret is None else f"secrets[{field.secret}].{field.name}"
        found.setdefault(key, []).append(message)
    return found


#: Where the page names its own controls, the API names its keys instead
#: (``filing.wording``): the same problem, in each one's words.
PAGE_TO_API_WORDS = {
    "tick 'another AWS account'": "set cross_account: true",
    "Select a valid choice: there is": "There is",
    "Leave the field blank;": "Leave role_name out (or empty);",
}


def in_api_words(found: dict[str, list]) -> dict[str, list]:
    def say(message: str) -> str:
        for page, api in PAGE_TO_API_WORDS.items():
            message = message.replace(page, api)
        return message

    return {key: [say(m) for m in messages] for key, messages in found.items()}


@pytest.mark.parametrize("change, where, binding_rule", CASES.values(), ids=CASES.keys())
def test_the_same_problems_through_every_way_in(
    change, where, binding_rule, requester, cluster, tmp_path
):
    body = copy.deepcopy(BODY)
    change(body)

    api = through_api(copy.deepcopy(body), requester)
    page = through_page(copy.deepcopy(body), requester, cluster)

    assert sorted(api) == sorted(where), api
    assert in_api_words(page) == api
    assert not any(words in str(api) for words in PAGE_TO_API_WORDS)
    if binding_rule:
        assert through_command(body, requester, cluster, tmp_path) == api
    assert not AccessRequest.objects.exists()


def test_a_taken_service_account_is_refused_the_same_way(requester, cluster):
    existing = AccessRequestFactory(
        cluster=cluster, namespace="deploy", service_account="data-access-service-secrets"
    )

    api = through_api(copy.deepcopy(BODY), requester)
    page = through_page(copy.deepcopy(BODY), requester, cluster)

    assert list(api) == ["service_account"]
    assert f"request #{existing.pk}" in api["service_account"][0]
    assert page == api


def test_every_filed_field_is_on_the_page_and_in_the_api():
    # What the page and the API take beyond the filed fields: acknowledgements
    # and the API's "draft or submit".
    asked = {"cross_account"}
    assert set(AccessRequestForm.base_fields) == set(AccessRequest.FILED_FIELDS)
    assert set(RequestCreateInput().fields) == {*AccessRequest.FILED_FIELDS, "secrets", "submit"}
    assert set(SecretGrantForm.base_fields) == {*SecretGrant.FILED_FIELDS, *asked}
    assert set(SecretInput().fields) == {*SecretGrant.FILED_FIELDS, *asked}
