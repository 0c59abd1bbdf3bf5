"""Django field validators over the naming rules. Each ``validate_*`` is a
module-level object so that migrations can reference it by name; all are
the same ``NameRuleValidator`` over one ``rendering/name_rules.check_*``."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from secrets_app.rendering import name_rules


@deconstructible(path="secrets_app.models.validators.NameRuleValidator")
class NameRuleValidator:
    """Raises the naming rule's own message when ``check(value)`` returns one."""

    def __init__(self, check: Callable[[str], str | None]):
        self.check = check

    def __call__(self, value: str) -> None:
        message = self.check(value)
        if message:
            raise ValidationError(message)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NameRuleValidator) and self.check == other.check

    def __hash__(self) -> int:
        return hash(self.check)


validate_dns1123_label = NameRuleValidator(name_rules.check_dns1123_label)
validate_dns1123_subdomain = NameRuleValidator(name_rules.check_dns1123_subdomain)
validate_name_affix = NameRuleValidator(name_rules.check_name_affix)
validate_account_id = NameRuleValidator(name_rules.check_account_id)
validate_region = NameRuleValidator(name_rules.check_region)
validate_oidc_issuer = NameRuleValidator(name_rules.check_oidc_issuer)
validate_mount_path = NameRuleValidator(name_rules.check_mount_path)
validate_role_name = NameRuleValidator(name_rules.check_role_name)
validate_alias = NameRuleValidator(name_rules.check_alias)
validate_kms_key_arn = NameRuleValidator(name_rules.check_kms_key_arn)
