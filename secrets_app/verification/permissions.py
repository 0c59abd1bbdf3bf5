"""Permission checks of one binding: for each secret, does the role's
identity policy (and its permissions boundary) allow reading it, and
decrypting it when a customer-managed KMS key is in play."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from secrets_app.integrations.aws import (
    AwsPermanentError,
    RoleInfo,
    RolePolicy,
    SecretInfo,
    arn_parts,
)
from secrets_app.rendering.name_rules import secrets_manager_via
from secrets_app.verification.findings import (
    ERROR,
    SUFFIX_WILDCARD,
    WARNING,
    ExpectedBinding,
    Finding,
    Severity,
    failed,
    passed,
)
from secrets_app.verification.policy_eval import Decision, allows, as_list, evaluate
from secrets_app.verification.policy_eval import statements as policy_statements
from secrets_app.verification.reader import BindingReader

# IAM action names (the role's grants are checked; the portal never calls them).
READ_VALUE_ACTION = "secretsmanager:GetSecretValue"
DESCRIBE_ACTION = "secretsmanager:DescribeSecret"
KMS_DECRYPT = "kms:Decrypt"


def _lookup_id(pattern: str) -> str | None:
    """What DescribeSecret can take for a binding's secret: the ARN, or the
    partial ARN of a ``name-??????`` pattern; None for other wildcards."""
    if pattern.endswith(SUFFIX_WILDCARD):
        pattern = pattern[: -len(SUFFIX_WILDCARD)]
    return None if "*" in pattern or "?" in pattern else pattern


def _sample_arn(pattern: str) -> str:
    # A stand-in secret ARN the pattern covers, for when no live ARN is known.
    return pattern.replace("?", "Z").replace("*", "Z")


def check_permissions(
    adapter: BindingReader, expected: ExpectedBinding, role: RoleInfo, out: list[Finding]
) -> None:
    policies = adapter.list_role_policies(role.name)
    boundary = None
    if role.permissions_boundary_arn:
        boundary = adapter.get_managed_policy(role.permissions_boundary_arn, "boundary")
    for pattern in expected.secret_arns:
        live = _check_secret(adapter, expected, pattern, out)
        resource = live.arn if live else _sample_arn(pattern)
        recommended = _recommended_resource(pattern)
        for action, code, severity in (
            (READ_VALUE_ACTION, "permissions.read_secret", ERROR),
            # The provider needs DescribeSecret only for rotation: a warning.
            (DESCRIBE_ACTION, "permissions.describe_secret", WARNING),
        ):
            out.append(
                _permission(
                    policies, boundary, role, action, resource, recommended, code, severity, pattern
                )
            )
        if live and pattern.endswith(SUFFIX_WILDCARD) and live.arn != _sample_arn(pattern):
            again = evaluate(policies, READ_VALUE_ACTION, _sample_arn(pattern))
            if evaluate(policies, READ_VALUE_ACTION, live.arn).allowed and not again.allowed:
                out.append(
                    failed(
                        "permissions.secret_recreation",
                        f"the policy grants only {live.arn}; a re-created secret gets a new "
                        "suffix and would be refused",
                        f'use "Resource": "{pattern}"',
                        subject=pattern,
                        severity=WARNING,
                    )
                )
        _check_kms(expected, pattern, live, policies, boundary, role, out)


def _check_secret(
    adapter: BindingReader, expected: ExpectedBinding, pattern: str, out: list[Finding]
) -> SecretInfo | None:
    try:
        account = arn_parts(pattern)[3]
    except ValueError:
        account = expected.account
    if account != expected.account:
        out.append(
            failed(
                "secret.cross_account",
                f"secret {pattern} is in account {account}, not the cluster's "
                f"({expected.account}); its resource policy and KMS key policy are not "
                "checked from here",
                f"make sure the secret's resource policy allows {expected.role_arn} and "
                "that it uses a customer-managed KMS key whose key policy allows it",
                subject=pattern,
                severity=WARNING,
            )
        )
        return None
    lookup = _lookup_id(pattern)
    if lookup is None:
        return None
    try:
        info = adapter.describe_secret(lookup)
    except AwsPermanentError as exc:
        out.append(
            failed(
                "secret.exists",
                f"secret {pattern} could not be described: {exc}",
                "check the secret name and region, or create the secret",
                subject=pattern,
                severity=ERROR if exc.not_found else WARNING,
            )
        )
        return None
    out.append(passed("secret.exists", f"secret {info.arn} exists", subject=pattern))
    return info


def _recommended_resource(pattern: str) -> str:
    """The guide's advice: ``name-??????`` survives re-creation, ``*`` overreaches."""
    if pattern.endswith(SUFFIX_WILDCARD) or "*" in pattern:
        return pattern
    try:
        _, _, _, _, resource = arn_parts(pattern)
    except ValueError:
        return pattern
    name = resource.removeprefix("secret:")
    if len(name) > 7 and name[-7] == "-":
        return pattern[:-7] + SUFFIX_WILDCARD
    return pattern


def _permission(
    policies: Sequence[RolePolicy],
    boundary: RolePolicy | None,
    role: RoleInfo,
    action: str,
    resource: str,
    recommended: str,
    code: str,
    severity: Severity,
    subject: str,
    context: Mapping[str, str] | None = None,
) -> Finding:
    decision = evaluate(policies, action, resource, context)
    condition = ""
    if context:
        pairs = ",".join(f'"{key}":"{value}"' for key, value in context.items())
        condition = f',"Condition":{{"StringEquals":{{{pairs}}}}}'
    statement = f'{{"Effect":"Allow","Action":"{action}","Resource":"{recommended}"{condition}}}'
    add = f"add {statement} to a policy attached to role {role.name}"
    if decision.allowed and boundary is not None:
        limit = evaluate([boundary], action, resource, context)
        if not limit.allowed:
            return failed(
                code,
                f"{action} on {resource} is allowed by the role's policies but not by its "
                f"permissions boundary {boundary.arn} ({limit.reason.replace('_', ' ')})",
                f"allow {action} on {recommended} in the permissions boundary",
                subject=subject,
                severity=severity,
            )
    if decision.allowed:
        by = ", ".join(str(r) for r in decision.allowed_by)
        return passed(code, f"{action} on {resource} is allowed by {by}", subject=subject)
    return failed(
        code,
        _denial_message(decision, policies, role, action, resource),
        _denial_fix(decision, add),
        subject=subject,
        severity=WARNING if decision.reason.startswith("conditional") else severity,
    )


def _denial_message(
    decision: Decision, policies: Sequence[RolePolicy], role: RoleInfo, action: str, resource: str
) -> str:
    if decision.reason == "explicit_deny":
        by = ", ".join(str(r) for r in decision.denied_by)
        return f"{action} on {resource} is explicitly denied by {by}"
    if decision.reason.startswith("conditional"):
        by = ", ".join(str(r) for r in decision.conditional)
        return f"{action} on {resource} depends on a Condition the portal does not evaluate ({by})"
    if not policies:
        return f"role {role.name} has no attached or inline policies, so {action} is denied"
    elsewhere = _granted_resources(policies, action)
    where = f"; the policies allow it only on {', '.join(elsewhere)}" if elsewhere else ""
    return f"no policy attached to role {role.name} allows {action} on {resource}{where}"


def _denial_fix(decision: Decision, add: str) -> str:
    if decision.reason == "explicit_deny":
        by = ", ".join(str(r) for r in decision.denied_by)
        return f"remove or narrow the Deny ({by}); then, if still needed, {add}"
    return add


def _granted_resources(policies: Sequence[RolePolicy], action: str) -> list[str]:
    found: list[str] = []
    for policy in policies:
        for st in policy_statements(policy.document):
            if allows(st, action):
                found.extend(r for r in as_list(st.get("Resource")) if r not in found)
    return found


def _region_of(key: str, expected: ExpectedBinding) -> str:
    try:
        return arn_parts(key)[2] or expected.region
    except ValueError:
        return expected.region


def _check_kms(
    expected: ExpectedBinding,
    pattern: str,
    live: SecretInfo | None,
    policies: Sequence[RolePolicy],
    boundary: RolePolicy | None,
    role: RoleInfo,
    out: list[Finding],
) -> None:
    registered = expected.kms_key_arns.get(pattern)
    key = live.kms_key_id if live and live.customer_managed_kms else registered
    if live and registered and live.kms_key_id != registered:
        out.append(
            failed(
                "secret.kms_key",
                f"secret {live.arn} is encrypted with "
                f"{live.kms_key_id or 'the AWS managed key'}; the binding records {registered}",
                "update the binding's KMS key for this secret",
                subject=pattern,
                severity=WARNING,
            )
        )
    if key:
        out.append(
            _permission(
                policies,
                boundary,
                role,
                KMS_DECRYPT,
                key,
                key,
                "permissions.kms_decrypt",
                ERROR,
                pattern,
                # The provider reads the secret; Secrets Manager decrypts it
                # with the role's credentials, in the key's (the secret's) region.
                context={"kms:ViaService": secrets_manager_via(_region_of(key, expected))},
            )
        )
    elif live:
        out.append(
            passed(
                "permissions.kms_decrypt",
                f"secret {live.arn} uses the AWS managed key aws/secretsmanager: "
                "no kms:Decrypt grant needed",
                subject=pattern,
            )
        )
