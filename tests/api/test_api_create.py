"""POST /api/requests/: the request form's validation, from JSON. Every bad
body is a 400 with errors on the field that caused them, and saves nothing."""

from __future__ import annotations

import datetime

import pytest

from secrets_app.models import AccessRequest, AuditEvent, SecretGrant
from tests.support.request_bodies import SECOND_ARN

pytestmark = pytest.mark.django_db

URL = "/api/requests/"


def nothing_saved() -> bool:
    return not (
        AccessRequest.objects.exists()
        or SecretGrant.objects.exists()
        or AuditEvent.objects.exists()
    )


def test_it_files_a_request_with_two_secrets(as_requester, requester, body):
    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    saved = AccessRequest.objects.get(pk=data["id"])
    assert saved.requester == requester
    assert saved.state == "pending"
    assert saved.service_account == "data-access-service-secrets"  # the form's default
    assert [g.alias for g in saved.secrets.order_by("position")] == [
        "dcp-db-password",
        "partner-api-key",
    ]
    assert data["secrets"][0]["sync_keys"] == [
        {"object": "dcp-db-password", "key": "rds_password", "env": "DB_PASSWORD"}
    ]
    assert data["secrets"][1]["jmes"] == [{"path": "username", "alias": "partner-username"}]
    assert [e["action"] for e in data["timeline"]] == ["request.created", "request.submitted"]
    assert data["warnings"] == []


def test_it_takes_the_cluster_by_id_and_saves_a_draft(as_requester, body, cluster):
    body.update(cluster=cluster.pk, submit=False, expires_on="2999-01-01")

    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["state"] == "draft"
    assert response.json()["expires_on"] == "2999-01-01"


def test_errors_are_keyed_like_the_input(as_requester, body):
    body["namespace"] = "kube-system"
    body["secrets"][0]["alias"] = "Bad Alias!"

    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"namespace", "secrets"}
    assert "system namespace kube-system" in errors["namespace"][0]
    assert set(errors["secrets"][0]) == {"alias"}
    assert errors["secrets"][1] == {}
    assert nothing_saved()


def _set(path: str, value):
    def change(body):
        target, *keys = body, *path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if value is KeyError:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return change


# (change to the valid body, where the error must be)
BAD = {
    "unknown cluster": (_set("cluster", "nowhere"), ["cluster"]),
    "cluster missing": (_set("cluster", KeyError), ["cluster"]),
    "cluster id out of range": (_set("cluster", "9" * 30), ["cluster"]),
    "bad service name": (_set("service", "Data_Access"), ["service"]),
    "blank justification": (_set("justification", "  "), ["justification"]),
    "no containers": (_set("containers", []), ["containers"]),
    "containers as a string": (_set("containers", "app"), ["containers"]),
    "container with a comma": (_set("containers", ["app,sidecar"]), ["containers"]),
    "relative mount path": (_set("mount_path", "mnt/secrets"), ["mount_path"]),
    "expiry in the past": (_set("expires_on", "2001-01-01"), ["expires_on"]),
    "expiry not a date": (_set("expires_on", 20990101), ["expires_on"]),
    "null service": (_set("service", None), ["service"]),
    "no secrets": (_set("secrets", []), ["secrets"]),
    "secrets not a list": (_set("secrets", {"secret": SECOND_ARN}), ["secrets"]),
    "secret not an object": (_set("secrets.1", "arn"), ["secrets"]),
    "ARN in another region": (
        _set("secrets.1.secret", SECOND_ARN.replace("us-west-2", "eu-west-1")),
        ["secrets.1.secret"],
    ),
    "ARN in another account without KMS key": (
        _set("secrets.1.secret", SECOND_ARN.replace("287796791794", "111122223333")),
        ["secrets.1.secret", "secrets.1.kms_key_arn"],
    ),
    "not an ARN": (_set("secrets.0.secret", "arn:aws:s3:::bucket"), ["secrets.0.secret"]),
    "duplicate alias": (_set("secrets.1.alias", "dcp-db-password"), ["secrets.1.alias"]),
    "jmes entry without path": (_set("secrets.1.jmes", [{"alias": "x"}]), ["secrets.1.jmes"]),
    "jmes alias with a blank": (
        _set("secrets.1.jmes", [{"path": "a", "alias": "two words"}]),
        ["secrets.1.jmes"],
    ),
    "jmes path on two lines": (
        _set("secrets.1.jmes", [{"path": "a as b\u2028c", "alias": "d"}]),
        ["secrets.1.jmes"],
    ),
    "bad env var name": (
        _set("secrets.0.sync_keys", [{"key": "rds_password", "env": "1DB"}]),
        ["secrets.0.sync_keys"],
    ),
    "key reads no mounted file": (
        _set("secrets.0.sync_keys", [{"object": "nope", "key": "k"}]),
        ["secrets.0.sync_keys"],
    ),
    "keys without a Secret name": (_set("secrets.0.sync_secret_name", ""), ["secrets.0"]),
    "unknown Secret type": (_set("secrets.0.sync_secret_type", "Magic"), ["secrets.0"]),
    "bad KMS key ARN": (_set("secrets.1.kms_key_arn", "alias/mine"), ["secrets.1.kms_key_arn"]),
    "misspelt key": (_set("secrets.0.sync_key", []), ["secrets.0.sync_key"]),
    "unknown top-level key": (_set("namespce", "deploy"), ["namespce"]),
}


def _at(errors, path: str):
    for key in path.split("."):
        errors = errors[int(key)] if key.isdigit() else errors[key]
    return errors


@pytest.mark.parametrize("change, where", BAD.values(), ids=BAD.keys())
def test_bad_input_is_a_400_on_the_right_field(as_requester, body, change, where):
    change(body)

    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    errors = response.json()
    for path in where:
        assert _at(errors, path), errors
    assert nothing_saved()


def test_the_renderers_spec_checks_run_too(as_requester, body):
    # Only the renderer knows what the CSI provider's JMESPath library accepts.
    body["secrets"][1]["jmes"] = [{"path": "a[", "alias": "partner-a"}]

    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["secrets"][1]["jmes"] == ["The key path `a[` has a `[` without its `]`."]
    assert nothing_saved()


def test_shape_errors_use_the_same_format(as_requester, body):
    body["secrets"][1]["jmes"] = [{"alias": "x"}]

    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"secrets": [{}, {"jmes": [{"path": ["This field is required."]}]}]}


def test_a_taken_service_account_is_refused(as_requester, body):
    assert as_requester.post(URL, body, format="json").status_code == 201

    again = as_requester.post(URL, body, format="json")

    assert again.status_code == 400
    first = AccessRequest.objects.get()
    # The ServiceAccount was left blank: it comes from the service, whose
    # folder, role and ServiceAccount the first request holds.
    message = again.json()["service"][0]
    assert message.startswith("The IAM role janus-dev_deploy_data-access-service")
    assert "6 files it writes (iam/287796791794/janus-dev/" in message
    assert f"belong to request #{first.pk} (grant access by alice, pending approval)" in message
    assert AccessRequest.objects.count() == 1


@pytest.mark.parametrize(
    "raw, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
        ("service=x", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_are_4xx_never_500(as_requester, cluster, raw, content_type):
    response = as_requester.generic("POST", URL, raw, content_type=content_type)

    assert response.status_code in (400, 415)
    assert nothing_saved()


def test_too_many_secrets(as_requester, body):
    body["secrets"] = [{"secret": SECOND_ARN.replace("dcp-api-key", f"key-{i}")} for i in range(21)]

    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 400
    assert "secrets" in response.json()
    assert nothing_saved()


def test_an_inactive_cluster_takes_no_requests(as_requester, body, cluster):
    cluster.active = False
    cluster.save()

    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["cluster"]
    assert nothing_saved()


def test_anonymous_cannot_file(anon, body):
    response = anon.post(URL, body, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert nothing_saved()


def test_same_date_rules_as_the_form(as_requester, body):
    body["expires_on"] = datetime.date.today().isoformat()

    response = as_requester.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["expires_on"] == ["The expiry date must be in the future."]


OTHER_ACCOUNT_ARN = "arn:aws:secretsmanager:us-west-2:111122223333:secret:partner-key-AbC123"


def test_errors_name_the_api_keys_not_the_page_controls(as_requester, body, cluster):
    body["secrets"][0].update(secret=OTHER_ACCOUNT_ARN)
    body["role_name"] = "someone-elses-role"
    response = as_requester.post("/api/requests/", body, format="json")
    assert response.status_code == 400
    errors = response.json()
    cross = errors["secrets"][0]["secret"][0]
    assert "set cross_account: true" in cross and "tick" not in cross
    assert "Leave role_name out (or empty)" in errors["role_name"][0]
    body["cluster"] = "nowhere"
    missing = as_requester.post("/api/requests/", body, format="json").json()
    assert missing["cluster"] == ["There is no active cluster nowhere."]
    body["cluster"] = ""
    blank = as_requester.post("/api/requests/", body, format="json").json()
    assert "Select" not in str(blank.get("cluster")) and "Choose" not in str(blank.get("cluster"))
