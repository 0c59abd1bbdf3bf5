"""Secret lookup while a request is filed: DescribeSecret and ListSecrets
only, never the value.

What the requester typed is checked against the cluster's account: a secret
that does not exist is a problem on its field (with AWS's words); a name or
partial ARN resolves to the full ARN. The KMS key is the secret's, as
DescribeSecret reports it, never the requester's pick: a customer-managed
key replaces whatever was typed, and a key typed for a secret under the AWS
managed key is dropped (with a warning). Only when AWS cannot say (no
answer, or a key known only by its alias) does a typed key stay, and the
spec checks then hold it to the secret's own account and region. AWS being
slow or down is not the requester's fault, so that is a warning and the
filing goes on. Results are data: the filing service applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.integrations.aws import AwsAdapter, AwsPermanentError
from secrets_app.integrations.errors import RetryableError
from secrets_app.models import Cluster
from secrets_app.rendering import name_rules


@dataclass(frozen=True)
class SecretToCheck:
    """One secret as the requester gave it."""

    given: str  # ARN (full or partial) or name
    ref: name_rules.SecretRef
    kms_key_arn: str  # the key the requester named, or ""


@dataclass
class Lookup:
    """What AWS said, per secret (by position): the values it resolved
    (``secret``: the full ARN; ``kms_key_arn``: the customer-managed key, or
    "" when the secret needs none), the secrets it does not know, and
    warnings for the requester."""

    resolved: dict[int, dict[str, str]] = field(default_factory=dict)
    missing: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def lookup_secrets(cluster: Cluster, secrets: Sequence[SecretToCheck | None]) -> Lookup:
    """``secrets`` by position in the request; None: one not to ask about."""
    found = Lookup()
    if not settings.PORTAL_AWS_LOOKUP:
        return found
    adapter = adapter_for(cluster, interactive=True)
    for index, secret in enumerate(secrets):
        if secret is None:
            continue
        try:
            _check_secret(adapter, cluster, secret, index, found)
        except RetryableError as error:
            # One timeout is enough: asking again for each secret would make
            # the requester wait several times for the same outage.
            found.warnings.append(
                f"AWS could not be reached, so the secrets were not checked ({error}). "
                "You can go on; the approvers will see the secrets as you typed them."
            )
            break
    return found


def _check_secret(
    adapter: AwsAdapter, cluster: Cluster, secret: SecretToCheck, index: int, found: Lookup
) -> None:
    number, given, ref = index + 1, secret.given, secret.ref
    foreign = ref.is_arn and ref.account != cluster.aws_account_id
    try:
        # The resource policy only matters (and is only asked for) across accounts.
        info = adapter.describe_secret(given, with_resource_policy=foreign)
    except AwsPermanentError as error:
        if error.not_found:
            account = ref.account or cluster.aws_account_id
            region = ref.region or cluster.region
            found.missing[index] = (
                f"Secrets Manager has no secret {given} in account {account}, "
                f"region {region}: {error}"
            )
        else:
            # Access denied, no credentials: the portal cannot tell, the requester may know.
            found.warnings.append(f"Secret {number} ({given}) could not be checked: {error}")
        return
    resolved: dict[str, str] = {}
    if info.arn != given:
        resolved["secret"] = info.arn
    key = _kms_key(secret, number, info.kms_key_id, info.customer_managed_kms, found.warnings)
    if key is not None:
        resolved["kms_key_arn"] = key
    if resolved:
        found.resolved[index] = resolved
    if foreign and info.has_resource_policy is False:
        # A warning, not a problem: the policy must name the role, which only
        # exists once the infra pull request is merged.
        found.warnings.append(
            f"Secret {number} ({info.arn}) is in account {info.account} and has no resource "
            "policy. Cross-account access needs one: once the role exists, the secret's owner "
            "must add a resource policy allowing it secretsmanager:GetSecretValue, and the "
            "KMS key policy must allow it kms:Decrypt."
        )


def _kms_key(
    secret: SecretToCheck, number: int, key: str | None, customer_managed: bool, warnings: list
) -> str | None:
    """The key to grant kms:Decrypt on when it differs from the one named:
    the secret's own, or "" for none; None keeps what was named."""
    named = secret.kms_key_arn
    if not customer_managed or not key:
        if not named:
            return None
        warnings.append(
            f"Secret {number} is encrypted with the AWS managed key aws/secretsmanager, which "
            f"needs no grant: the key you named ({named}) was dropped."
        )
        return ""
    if key == named:
        return None
    if name_rules.check_kms_key_arn(key):
        # Only an alias is known (no kms:DescribeKey on a foreign key); a
        # policy needs the key ARN, which the requester must supply.
        if named:
            warnings.append(
                f"Secret {number} is encrypted with {key}; the portal cannot tell which key "
                f"that alias names, so the key you named ({named}) is kept: approvers, check it."
            )
        else:
            warnings.append(
                f"Secret {number} is encrypted with the customer-managed key {key}; "
                "give the key's ARN (arn:...:key/...) so the role gets kms:Decrypt on it."
            )
        return None
    if named:
        warnings.append(
            f"Secret {number} is encrypted with {key}, not {named}; "
            f"the request grants kms:Decrypt on {key} only."
        )
    return key
