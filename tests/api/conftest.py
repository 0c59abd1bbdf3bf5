"""API clients for the standing users (token auth, as automation uses it)
and a valid request body: the guide's secret plus a second one."""

from __future__ import annotations

import copy

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

SECOND_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-api-key-AbCd12"

VALID_BODY = {
    "cluster": "janus-dev",
    "service": "data-access-service",
    "namespace": "deploy",
    "containers": ["app"],
    "justification": "Reads the RDS password and the partner API key.",
    "secrets": [
        {
            "secret": "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-QWYC1r",
            "sync_secret_name": "dcp-db-password",
            "sync_keys": [{"key": "rds_password", "env": "DB_PASSWORD"}],
        },
        {
            "secret": SECOND_ARN,
            "alias": "partner-api-key",
            "jmes": [{"path": "username", "alias": "partner-username"}],
        },
    ],
}


@pytest.fixture
def body(cluster):
    return copy.deepcopy(VALID_BODY)


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def as_requester(requester):
    return client_for(requester)


@pytest.fixture
def as_other(other_user):
    return client_for(other_user)


@pytest.fixture
def as_approver(approver):
    return client_for(approver)


@pytest.fixture
def as_admin(admin_user):
    return client_for(admin_user)
