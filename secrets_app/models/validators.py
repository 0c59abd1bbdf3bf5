"""Django field validators over the naming rules (module-level functions so
that migrations can reference them)."""

from django.core.exceptions import ValidationError

from secrets_app.rendering import name_rules


def _raise(message: str | None) -> None:
    if message:
        raise ValidationError(message)


def validate_dns1123_label(value: str) -> None:
    _raise(name_rules.check_dns1123_label(value))


def validate_dns1123_subdomain(value: str) -> None:
    _raise(name_rules.check_dns1123_subdomain(value))


def validate_account_id(value: str) -> None:
    _raise(name_rules.check_account_id(value))


def validate_region(value: str) -> None:
    _raise(name_rules.check_region(value))


def validate_oidc_issuer(value: str) -> None:
    _raise(name_rules.check_oidc_issuer(value))


def validate_mount_path(value: str) -> None:
    _raise(name_rules.check_mount_path(value))


def validate_role_name(value: str) -> None:
    _raise(name_rules.check_role_name(value))


def validate_alias(value: str) -> None:
    _raise(name_rules.check_alias(value))


def validate_kms_key_arn(value: str) -> None:
    _raise(name_rules.check_kms_key_arn(value))
