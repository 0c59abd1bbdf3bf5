"""Faults between the adapter and AWS: throttling, 5xx, refused connections,
denials. The proxy in front of moto answers the chosen requests itself and
counts every attempt, so the bounded retries are visible."""

from __future__ import annotations

import socket

import pytest

from secrets_app.integrations.aws import AwsAdapter, AwsPermanentError, AwsRetryableError
from secrets_app.integrations.errors import PermanentError, RetryableError
from tests.aws.aws_fakes import json_error, query_error
from tests.aws.aws_world import REGION, SECRET

JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
XML_HEADERS = {"Content-Type": "text/xml"}


def is_op(operation):
    return lambda rec: rec.operation == operation


def test_throttling_is_retried_then_succeeds(clients, make_adapter, proxy):
    clients("secretsmanager").create_secret(Name=SECRET, SecretString="x")
    proxy.inject(
        is_op("secretsmanager:DescribeSecret"),
        times=2,
        status=400,
        body=json_error("ThrottlingException", "Rate exceeded"),
        headers=JSON_HEADERS,
    )
    info = make_adapter(max_attempts=3).describe_secret(SECRET)
    assert info.name == SECRET
    assert proxy.count("secretsmanager:DescribeSecret") == 3  # two throttled, one served


def test_persistent_throttling_gives_up_after_the_bound(clients, make_adapter, proxy):
    proxy.inject(
        is_op("iam:GetRole"),
        times=100,
        status=400,
        body=query_error("Throttling", "Rate exceeded"),
        headers=XML_HEADERS,
    )
    with pytest.raises(RetryableError) as raised:
        make_adapter(max_attempts=2).get_role("any")
    err = raised.value
    assert isinstance(err, AwsRetryableError)
    assert err.code == "Throttling"
    assert "Rate exceeded" in str(err)
    assert "after 2 attempts" in str(err)
    assert proxy.count("iam:GetRole") == 2


def test_server_errors_are_retryable(clients, make_adapter, proxy):
    proxy.inject(
        lambda rec: rec.service == "eks",
        times=100,
        status=503,
        body=b'{"message": "Service Unavailable"}',
        headers={
            "Content-Type": "application/json",
            "x-amzn-ErrorType": "ServiceUnavailableException",
        },
    )
    with pytest.raises(RetryableError) as raised:
        make_adapter(max_attempts=2).describe_cluster("dcp-dev")
    assert raised.value.status == 503
    assert len([r for r in proxy.requests if r.service == "eks"]) == 2


def test_too_many_requests_carries_retry_after(make_adapter, proxy):
    proxy.inject(
        is_op("secretsmanager:ListSecrets"),
        times=1,
        status=429,
        body=json_error("TooManyRequestsException", "Slow down"),
        headers={**JSON_HEADERS, "Retry-After": "7"},
    )
    with pytest.raises(RetryableError) as raised:
        make_adapter(max_attempts=1).search_secrets("dcp")
    assert raised.value.retry_after == 7.0
    assert "Slow down" in str(raised.value)


def test_a_refused_connection_is_retryable(moto):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = AwsAdapter(region=REGION, endpoint_url=f"http://127.0.0.1:{port}", max_attempts=2)
    with pytest.raises(RetryableError, match="Could not connect"):
        adapter.describe_secret(SECRET)


def test_access_denied_is_permanent_and_not_retried(make_adapter, proxy):
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/portal/x is not authorized to perform: "
        "iam:GetRole on resource: role data-access-service-secrets"
    )
    proxy.inject(
        is_op("iam:GetRole"),
        times=1,
        status=403,
        body=query_error("AccessDenied", message),
        headers=XML_HEADERS,
    )
    with pytest.raises(PermanentError) as raised:
        make_adapter().get_role("data-access-service-secrets")
    assert isinstance(raised.value, AwsPermanentError)
    assert raised.value.code == "AccessDenied"
    assert message in str(raised.value)
    assert proxy.count("iam:GetRole") == 1


def test_a_validation_error_is_permanent(make_adapter, proxy):
    proxy.inject(
        is_op("secretsmanager:DescribeSecret"),
        times=1,
        status=400,
        body=json_error("ValidationException", "Invalid name. Must be a valid name"),
        headers=JSON_HEADERS,
    )
    with pytest.raises(PermanentError, match="Invalid name"):
        make_adapter().describe_secret("bad name")
    assert proxy.count("secretsmanager:DescribeSecret") == 1
