"""Secret lookup while the request form is filled in: DescribeSecret and
ListSecrets only, never the value.

What the requester typed is checked against the cluster's account: a secret
that does not exist is an error on its field (with AWS's words); a name or
partial ARN becomes the full ARN; a customer-managed KMS key is filled in so
the policy grants ``kms:Decrypt``. AWS being slow or down is not the
requester's fault, so that is a warning and the form goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.forms import BaseFormSet, Form
from django.http import HttpRequest

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.integrations.aws import AwsAdapter, AwsPermanentError, SecretSummary
from secrets_app.integrations.errors import IntegrationError, RetryableError
from secrets_app.models import Cluster
from secrets_app.rendering import name_rules

PICKER_LIMIT = 20


def lookup_secrets(
    formset: BaseFormSet, cluster: Cluster | None, *, request: HttpRequest | None = None
) -> bool:
    """Check every secret of a valid formset in AWS; False when a form got an
    error. Warnings go to ``request``'s messages and ``formset.aws_warnings``."""
    formset.aws_warnings = warnings = []
    if not settings.PORTAL_AWS_LOOKUP or cluster is None:
        return True
    adapter = adapter_for(cluster, interactive=True)
    ok = True
    for number, form in enumerate(formset.forms, start=1):
        if not form.cleaned_data or form.cleaned_data.get("DELETE"):
            continue
        try:
            ok = _check_secret(adapter, cluster, form, number, warnings) and ok
        except RetryableError as error:
            # One timeout is enough: asking again for each secret would make
            # the requester wait several times for the same outage.
            warnings.append(
                f"AWS could not be reached, so the secrets were not checked ({error}). "
                "You can go on; the approvers will see the secrets as you typed them."
            )
            break
    if request is not None:
        for warning in warnings:
            messages.warning(request, warning)
    return ok


def _check_secret(
    adapter: AwsAdapter, cluster: Cluster, form: Form, number: int, warnings: list[str]
) -> bool:
    data = form.cleaned_data
    ref: name_rules.SecretRef = form.secret_ref
    given = data["secret"]
    foreign = ref.is_arn and ref.account != cluster.aws_account_id
    try:
        # The resource policy only matters (and is only asked for) across accounts.
        info = adapter.describe_secret(given, with_resource_policy=foreign)
    except AwsPermanentError as error:
        if error.not_found:
            account = ref.account or cluster.aws_account_id
            region = ref.region or cluster.region
            form.add_error(
                "secret",
                f"Secrets Manager has no secret {given} in account {account}, "
                f"region {region}: {error}",
            )
            return False
        # Access denied, no credentials: the portal cannot tell, the requester may know.
        warnings.append(f"Secret {number} ({given}) could not be checked: {error}")
        return True
    if info.arn != given:
        form.use_resolved_secret(info.arn)
        _show(form, "secret", info.arn)
    _take_kms_key(form, number, info.kms_key_id, info.customer_managed_kms, warnings)
    if foreign and info.has_resource_policy is False:
        # A warning, not an error: the policy must name the role, which only
        # exists once the infra pull request is merged.
        warnings.append(
            f"Secret {number} ({info.arn}) is in account {info.account} and has no resource "
            "policy. Cross-account access needs one: once the role exists, the secret's owner "
            "must add a resource policy allowing it secretsmanager:GetSecretValue, and the "
            "KMS key policy must allow it kms:Decrypt."
        )
    return True


def _take_kms_key(
    form: Form, number: int, key: str | None, customer_managed: bool, warnings: list[str]
) -> None:
    data = form.cleaned_data
    if not customer_managed or not key or key == data["kms_key_arn"]:
        return
    if name_rules.check_kms_key_arn(key):
        # Only an alias is known (no kms:DescribeKey on a foreign key); a
        # policy needs the key ARN, which the requester must supply.
        if not data["kms_key_arn"]:
            warnings.append(
                f"Secret {number} is encrypted with the customer-managed key {key}; "
                "give the key's ARN (arn:...:key/...) so the role gets kms:Decrypt on it."
            )
        return
    if data["kms_key_arn"]:
        warnings.append(
            f"Secret {number} is encrypted with {key}, not {data['kms_key_arn']}; "
            f"the request now grants kms:Decrypt on {key}."
        )
    data["kms_key_arn"] = key
    _show(form, "kms_key_arn", key)


def _show(form: Form, field: str, value: str) -> None:
    """Put a resolved value into the bound data too, so the page shown again
    (preview, or another field's error) displays what was checked and the
    next submit sends it."""
    data = form.data.copy()  # a request's QueryDict is immutable
    data[form.add_prefix(field)] = value
    form.data = data


def search_secrets(
    cluster: Cluster, prefix: str, limit: int = PICKER_LIMIT
) -> tuple[Sequence[SecretSummary], str]:
    """Secrets of the cluster's account and region whose name starts with
    ``prefix``, and an error text (empty when AWS answered)."""
    if not settings.PORTAL_AWS_LOOKUP:
        return [], ""
    try:
        return adapter_for(cluster, interactive=True).search_secrets(prefix, limit), ""
    except IntegrationError as error:
        return [], str(error)


def picker_query(params: Any) -> str:
    """The text typed: ``q``, or the secret field itself (htmx sends the
    input's own name, e.g. ``secrets-0-secret``)."""
    if params.get("q"):
        return str(params["q"])
    for key, value in params.items():
        if key.endswith("-secret") and value:
            return str(value)
    return ""
