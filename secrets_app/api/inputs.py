"""Input serializers. They only check the JSON's shape (types, list sizes,
column sizes, values the page's formats could not show); the filing service
judges the content, exactly as for the request page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from secrets_app.models import WorkloadKind
from secrets_app.rendering import name_rules
from secrets_app.requests.filing.rules import JUSTIFICATION_REQUIRED, MAX_SECRETS


# The page shows JSON keys and synced keys as text lines ("PATH as FILE",
# "FILE -> KEY as ENV") and containers as a comma-separated list; a line
# break, a blank, an arrow or a comma inside one value would read back as
# something else there, so a request filed here could not be shown (or
# copied) on the page. They are refused.
def _one_line(value: str) -> None:
    # str.splitlines is what the page splits on (\u2028, \x85, ... too).
    if value.splitlines() != [value]:
        raise serializers.ValidationError("Must be on one line.")


_one_word = RegexValidator(
    r"\A(?!.*->)\S+\Z", "Must be one word without blanks or '->'.", code="one_word"
)

_one_name = RegexValidator(r"\A[^,\s]+\Z", "One name per item, without commas or blanks.")

# Limits of the API only (the page reads free text): generous for people,
# and they keep generated and hostile bodies small. Field lengths are the
# model's, so the page would refuse anything longer anyway.
MAX_ENTRIES = 50
MAX_CONTAINERS = 20


def _text(**kwargs) -> serializers.CharField:
    # Blank values go through to the filing service, which says what is wrong
    # with them.
    return serializers.CharField(allow_blank=True, **kwargs)


# Why strict: a misspelt "sync_key" silently ignored would file a request
# without the sync that was asked for. The schema says so too
# (additionalProperties: false, ``schema.close_inputs``). The docstring is
# every input's description in the OpenAPI schema: it speaks to API users.
class StrictInput(serializers.Serializer):
    """Takes only the keys listed: any other key is a 400 ("Unknown field.")."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {str(k): ["Unknown field."] for k in data if k not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, dict):
                error.detail.update(unknown)
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class JmesInput(StrictInput):
    path = serializers.CharField(
        max_length=1000, validators=[_one_line], help_text="jmesPath, e.g. username."
    )
    alias = serializers.CharField(
        max_length=253, validators=[_one_word], help_text="File name, e.g. db-username."
    )


class SyncKeyInput(StrictInput):
    object = serializers.CharField(
        required=False,
        max_length=253,
        validators=[_one_word],
        help_text="The mounted file the key reads; default: the secret's alias.",
    )
    key = serializers.CharField(
        max_length=253, validators=[_one_word], help_text="Key in the Kubernetes Secret."
    )
    env = serializers.CharField(
        required=False,
        max_length=253,
        validators=[_one_word],
        help_text="Environment variable set from the key.",
    )


class SecretInput(StrictInput):
    secret = _text(max_length=2048, help_text="Secret ARN (with or without suffix) or name.")
    alias = _text(
        required=False,
        max_length=253,
        help_text="File name under the mount path; default: the name.",
    )
    any_suffix = serializers.BooleanField(required=False, default=False)
    cross_account = serializers.BooleanField(
        required=False, default=False, help_text="The secret is in another AWS account."
    )
    kms_key_arn = _text(required=False, max_length=2048, help_text="Customer-managed KMS key ARN.")
    jmes = JmesInput(
        many=True, required=False, max_length=MAX_ENTRIES, help_text="JSON keys to mount as files."
    )
    sync_secret_name = _text(
        required=False, max_length=253, help_text="Sync into this Kubernetes Secret."
    )
    sync_secret_type = serializers.ChoiceField(
        choices=name_rules.SYNC_SECRET_TYPES, required=False, default="Opaque"
    )
    sync_keys = SyncKeyInput(
        many=True, required=False, max_length=MAX_ENTRIES, help_text="Keys of the synced Secret."
    )


class RequestCreateInput(StrictInput):
    cluster = serializers.CharField(max_length=63, help_text="The cluster's id or name.")
    service = _text(max_length=63, help_text="Lower-case DNS name, e.g. data-access-service.")
    namespace = _text(max_length=63)
    workload_kind = serializers.ChoiceField(
        choices=WorkloadKind.choices, required=False, default=WorkloadKind.DEPLOYMENT
    )
    workload_name = _text(required=False, max_length=253, help_text="Default: the service name.")
    containers = serializers.ListField(
        child=serializers.CharField(max_length=63, validators=[_one_name]),
        max_length=MAX_CONTAINERS,
        help_text='Containers that mount the secrets, e.g. ["app"].',
    )
    service_account = _text(required=False, max_length=253, help_text="Default: <service>-secrets.")
    restart_on_change = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: Stakater Reloader restarts the workload when a synced Secret "
        "changes (annotation secret.reloader.stakater.com/reload; needs Reloader and a "
        "synced Secret).",
    )
    name_prefix = _text(
        required=False,
        max_length=253,
        help_text="The namePrefix the service's kustomization layers add, all combined "
        "(outermost first); the role trusts the renamed ServiceAccount.",
    )
    name_suffix = _text(
        required=False, max_length=253, help_text="Likewise for nameSuffix (innermost first)."
    )
    role_name = _text(
        required=False,
        max_length=64,
        help_text="Default: derived from cluster, namespace, service.",
    )
    mount_path = _text(required=False, max_length=1024, default=name_rules.DEFAULT_MOUNT_PATH)
    justification = _text(error_messages={"required": JUSTIFICATION_REQUIRED})
    expires_on = serializers.DateField(required=False, allow_null=True)
    submit = serializers.BooleanField(
        required=False, default=True, help_text="false: save as a draft instead of submitting."
    )
    secrets = SecretInput(many=True, min_length=1, max_length=MAX_SECRETS)


class RequestEditInput(RequestCreateInput):
    """A draft's new values: the whole request, as filed (PUT), or the
    draft's values with the keys given replaced (PATCH)."""

    submit = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: submit the draft for approval once saved (its requester only).",
    )


class ApproveInput(StrictInput):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class RejectInput(StrictInput):
    reason = serializers.CharField(max_length=5000, help_text="Shown to the requester.")


class ChangeInput(StrictInput):
    """A change of a binding: its whole new list of secrets (kept, changed
    and added; one left out is removed) and, optionally, a new mount path.
    The cluster, namespace, service, workload, ServiceAccount and role stay."""

    justification = _text(error_messages={"required": JUSTIFICATION_REQUIRED})
    mount_path = _text(required=False, max_length=1024)
    secrets = SecretInput(many=True, min_length=1, max_length=MAX_SECRETS)


class RevokeInput(StrictInput):
    reason = serializers.CharField(max_length=5000, help_text="Shown to the approvers.")


class ExtendInput(StrictInput):
    expires_on = serializers.DateField(
        help_text="The new expiry date (YYYY-MM-DD): after today and after the current one."
    )
    justification = serializers.CharField(
        max_length=5000, help_text="Why the access is still needed; shown to the approvers."
    )


class CommentInput(StrictInput):
    body = serializers.CharField(max_length=5000)
