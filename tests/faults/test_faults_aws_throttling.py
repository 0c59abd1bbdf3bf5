"""AWS throttling while a binding is verified, through moto behind the
recording proxy of tests/aws (``RecordingProxy`` answers the chosen calls
with ``Throttling`` / ``ThrottlingException`` itself). A short burst is
absorbed by botocore's bounded retries and the verification passes; a long
one ends as a clear error on the binding page, after the task's own retries,
without touching the binding's last verdict; once AWS answers again the next
verification passes.

tests/aws/test_aws_errors.py covers the adapter alone (retried, bounded,
classified); this is the portal's side of it."""

from __future__ import annotations

import pytest

from secrets_app.models import Binding, TaskRun, VerificationResult
from secrets_app.tasks.verification import verify_binding_task
from tests.aws.aws_fakes import json_error, query_error
from tests.aws.aws_world import build_guide_world
from tests.aws_portal.aws_portal_support import guide_binding

pytestmark = pytest.mark.django_db

XML = {"Content-Type": "text/xml"}
JSON = {"Content-Type": "application/x-amz-json-1.1"}


@pytest.fixture
def world(clients):
    return build_guide_world(clients, customer_key=True)


def is_op(operation):
    return lambda rec: rec.operation == operation


def throttle(proxy, *, times: int) -> None:
    """IAM (query protocol) and Secrets Manager (JSON protocol) both throttle."""
    proxy.inject(
        is_op("iam:GetRole"),
        times=times,
        status=400,
        body=query_error("Throttling", "Rate exceeded"),
        headers=XML,
    )
    proxy.inject(
        is_op("secretsmanager:DescribeSecret"),
        times=times,
        status=400,
        body=json_error("ThrottlingException", "Rate exceeded"),
        headers=JSON,
    )


def runs() -> list[tuple[str, str]]:
    return list(
        TaskRun.objects.filter(kind="verify").order_by("id").values_list("outcome", "error")
    )


def test_a_short_throttling_burst_is_absorbed_and_the_binding_verifies(
    moto_cluster, portal_aws, world
):
    binding = guide_binding(moto_cluster, world)
    throttle(portal_aws, times=2)  # botocore makes up to 3 attempts per call
    assert verify_binding_task.apply(args=(binding.pk,)).get() == "ok"
    assert [o for o, _ in runs()] == ["succeeded"]  # no task-level retry needed
    assert portal_aws.count("iam:GetRole") == 3  # two throttled, one served
    assert portal_aws.count("secretsmanager:DescribeSecret") >= 3
    result = VerificationResult.objects.get()
    assert result.ok and result.error == ""
    assert Binding.objects.get(pk=binding.pk).verification_ok is True


def test_a_long_throttling_burst_is_a_clear_error_on_the_page_and_keeps_the_verdict(
    moto_cluster, portal_aws, world, client, requester, settings
):
    binding = guide_binding(moto_cluster, world)
    assert verify_binding_task.apply(args=(binding.pk,)).get() == "ok"
    verified_at = Binding.objects.get(pk=binding.pk).verified_at

    settings.PORTAL_TASK_MAX_ATTEMPTS = 1  # one task retry, then the outage is the result
    settings.PORTAL_TASK_RETRY_BASE = 0.01
    settings.PORTAL_TASK_RETRY_CAP = 0.05
    throttle(portal_aws, times=1000)
    portal_aws.clear()
    # apply() runs the task's retry in-process at once.
    assert verify_binding_task.apply(args=(binding.pk,)).get() == "problems"
    assert [o for o, _ in runs()] == ["succeeded", "retrying", "failed"]
    assert all("Throttling" in error and "Rate exceeded" in error for _, error in runs()[1:])
    assert portal_aws.count("iam:GetRole") == 2 * 3  # bounded: 2 task attempts x 3 calls

    result = VerificationResult.objects.order_by("-id").first()
    assert result.ok is False and result.findings == []
    assert "Throttling" in result.error and "after 3 attempts" in result.error
    kept = Binding.objects.get(pk=binding.pk)
    assert (kept.verification_ok, kept.verified_at) == (True, verified_at)

    client.force_login(requester)
    page = client.get(binding.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Not verified" in html and "AWS could not be asked" in html
    assert "Rate exceeded" in html

    portal_aws.faults.clear()  # AWS answers again
    assert verify_binding_task.apply(args=(binding.pk,)).get() == "ok"
    assert VerificationResult.objects.order_by("-id").first().ok
    assert "All checks pass" in client.get(binding.get_absolute_url()).content.decode()
