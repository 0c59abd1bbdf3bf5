"""Post-merge verification of a binding: what the portal rendered
(``ExpectedBinding``) checked against AWS, stored as a ``VerificationResult``."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.bindings.history import current_request
from secrets_app.integrations.aws import arn_parts
from secrets_app.integrations.errors import IntegrationError, RetryableError
from secrets_app.models import Binding, Cluster, TaskRun, VerificationResult
from secrets_app.rendering import name_rules
from secrets_app.rendering.names import default_role_name
from secrets_app.verification import ExpectedBinding, has_errors, verify_binding
from secrets_app.verification.findings import SUFFIX_WILDCARD

VERIFY_KIND = "verify"


def binding_role_name(binding: Binding) -> str:
    if binding.role_arn.startswith("arn:"):
        # arn:aws:iam::<account>:role/<path/>name: IAM looks roles up by name alone.
        return arn_parts(binding.role_arn)[4].rsplit("/", 1)[-1]
    request = current_request(binding)
    if request is not None and request.role_name:
        return request.role_name
    return default_role_name(binding.cluster.name, binding.namespace, binding.service)


def _secret_pattern(cluster: Cluster, secret: str, any_suffix: bool) -> str:
    """What the policy grants, as the renderer writes it: the exact ARN, or
    ``<name>-??????`` for a name, a partial ARN or ``any_suffix``."""
    try:
        ref = name_rules.parse_secret_ref(secret)
    except name_rules.SecretRefError:
        return secret  # an imported binding's odd value: check it as written
    if ref.is_full_arn and not any_suffix:
        return secret
    return (
        f"arn:{ref.partition or cluster.partition}:secretsmanager:"
        f"{ref.region or cluster.region}:{ref.account or cluster.aws_account_id}:"
        f"secret:{ref.name}{SUFFIX_WILDCARD}"
    )


def expected_binding(binding: Binding) -> ExpectedBinding:
    """The binding as the portal rendered it: the grants of its request (or
    of the change merged since) when the portal made it, the recorded
    secrets when it was imported."""
    cluster = binding.cluster
    patterns: list[str] = []
    kms: dict[str, str | None] = {}
    request = current_request(binding)
    if request is not None:
        for grant in request.secrets.order_by("position"):
            pattern = _secret_pattern(cluster, grant.secret, grant.any_suffix)
            patterns.append(pattern)
            if grant.kms_key_arn:
                kms[pattern] = grant.kms_key_arn
    else:
        patterns = [_secret_pattern(cluster, s.arn, False) for s in binding.secrets.all()]
    return ExpectedBinding(
        account=cluster.aws_account_id,
        region=cluster.region,
        cluster_name=cluster.eks_cluster_name or cluster.name,
        role_name=binding_role_name(binding),
        namespace=binding.namespace,
        service_account=binding.service_account,
        secret_arns=tuple(patterns),
        oidc_issuer=cluster.oidc_issuer,
        identity=cluster.identity_mode,
        partition=cluster.partition,
        kms_key_arns=kms,
    )


def verify_binding_now(binding_id: int, *, raise_retryable: bool = False) -> VerificationResult:
    """Verify one binding against AWS and store the result.

    A ``RetryableError`` (after the adapter's own retries) is re-raised when
    ``raise_retryable`` (the task will try again later); otherwise it is
    stored as the result's error. A refused lookup (e.g. AssumeRole denied)
    is stored the same way: nothing was verified.
    """
    binding = Binding.objects.select_related("cluster", "request").get(pk=binding_id)
    try:
        findings = verify_binding(adapter_for(binding.cluster), expected_binding(binding))
    except RetryableError as error:
        if raise_retryable:
            raise
        return _store(binding, ok=False, findings=[], error=str(error))
    except IntegrationError as error:
        return _store(binding, ok=False, findings=[], error=str(error))
    return _store(binding, ok=not has_errors(findings), findings=[f.to_dict() for f in findings])


@transaction.atomic
def _store(
    binding: Binding, *, ok: bool, findings: list[dict[str, Any]], error: str = ""
) -> VerificationResult:
    result = VerificationResult.objects.create(
        binding=binding, ok=ok, findings=findings, error=error
    )
    if not error:
        # An outage says nothing about the binding: keep its last verdict.
        Binding.objects.filter(pk=binding.pk).update(
            verification_ok=ok, verified_at=result.checked_at
        )
    return result


def verify_run_start(binding_id: int, *, task_id: str = "", attempt: int = 1) -> TaskRun:
    """The visible record of one verification task run."""
    place = Binding.objects.filter(pk=binding_id).values("request_id", "cluster_id").first() or {}
    return TaskRun.objects.create(
        kind=VERIFY_KIND,
        request_id=place.get("request_id"),
        cluster_id=place.get("cluster_id"),
        task_id=task_id,
        attempt=attempt,
        detail={"binding_id": binding_id},
    )


def verify_run_finish(run: TaskRun, outcome: str, *, error: str = "", **detail: Any) -> None:
    run.finish(outcome, error=error, **detail)
