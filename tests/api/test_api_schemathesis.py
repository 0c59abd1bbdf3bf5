"""Schemathesis against the API's own schema, in-process through WSGI, with
a token-authenticated approver: for every operation, valid and invalid
inputs alike, no 5xx, and every response conforms to the schema (status
code, content type, headers, body)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import AccessRequestFactory, SecretGrantFactory

pytestmark = pytest.mark.django_db

# Small on purpose: the run stays well under a minute on 2 cores. Derandomized
# so that CI runs the same examples every time.
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
RAW_SCHEMA = SchemaGenerator().get_schema(public=True)
OPERATIONS = [
    (method.upper(), path) for path, methods in RAW_SCHEMA["paths"].items() for method in methods
]


@pytest.fixture(scope="module")
def api_schema():
    # Loaded once: parsing it costs more than a dozen examples. That the
    # served /api/schema/ is this same document is test_api_schema's job.
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(RAW_SCHEMA)))
    schema.app = get_wsgi_application()  # what from_wsgi sets: calls go through WSGI
    return schema


@pytest.fixture
def keep_connection(db):
    # The WSGI handler closes the database connection after each request,
    # which would end the test's transaction; Django's test client keeps the
    # connection, and so does this, the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(approver, requester, cluster):
    # Something to find: a pending request the approver may act on.
    SecretGrantFactory(request=AccessRequestFactory(requester=requester, cluster=cluster))
    return Token.objects.create(user=approver).key


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_schema(api_schema, keep_connection, token, method, path, mode):
    auth = {"Authorization": f"Token {token}"}
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=auth, checks=CHECKS)

    run()
