"""The access request form: the request itself plus a formset of secrets.

Everything that can be checked before saving is checked here, and each
problem is attached to the field that caused it. Checks that need the chosen
cluster (region, account) get it through ``form_kwargs``.
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from secrets_app.models import AccessRequest, Cluster, WorkloadKind
from secrets_app.rendering import name_rules
from secrets_app.requests.workflow import OPEN_STATES
from secrets_app.web.forms.lines import parse_jmes_lines, parse_sync_lines

#: Namespaces nobody gets application secrets in.
PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
MAX_SECRETS = 20


def _check(message: str | None) -> None:
    if message:
        raise ValidationError(message)


class AccessRequestForm(forms.ModelForm):
    cluster = forms.ModelChoiceField(
        queryset=Cluster.objects.filter(active=True), empty_label="Choose a cluster"
    )
    containers = forms.CharField(
        help_text="Containers that mount the secrets, comma-separated (e.g. app).",
        max_length=1000,
    )
    workload_name = forms.CharField(
        required=False, max_length=253, help_text="Blank: the service name."
    )
    service_account = forms.CharField(
        label="ServiceAccount",
        required=False,
        max_length=253,
        help_text="Blank: <service>-secrets, as in the guide. The SecretProviderClass "
        "takes the same name.",
    )
    mount_path = forms.CharField(initial=name_rules.DEFAULT_MOUNT_PATH, max_length=1024)
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: access is revoked on this date.",
    )

    class Meta:
        model = AccessRequest
        fields = [
            "cluster",
            "service",
            "namespace",
            "workload_kind",
            "workload_name",
            "containers",
            "service_account",
            "role_name",
            "mount_path",
            "justification",
            "expires_on",
        ]
        widgets = {"justification": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "justification": {
                "required": "Tell the approvers why this service needs these secrets."
            }
        }
        help_texts = {
            "service": "Lower-case DNS name, e.g. data-access-service.",
            "justification": "Why this service needs these secrets; approvers read this.",
        }

    def __init__(self, *args, requester=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.requester = requester
        self.fields["workload_kind"].initial = WorkloadKind.DEPLOYMENT

    def clean_namespace(self) -> str:
        namespace = self.cleaned_data["namespace"]
        if namespace in PROTECTED_NAMESPACES:
            raise ValidationError(f"Secrets cannot be granted in the system namespace {namespace}.")
        return namespace

    def clean_containers(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data["containers"].split(",") if n.strip()]
        if not names:
            raise ValidationError("Name at least one container.")
        errors = [
            m for m in (name_rules.check_dns1123_label(n, "container name") for n in names) if m
        ]
        if len(set(names)) != len(names):
            errors.append("Each container is listed once.")
        if errors:
            raise ValidationError(errors)
        return names

    def clean_service_account(self) -> str:
        value = self.cleaned_data.get("service_account", "").strip()
        if value:
            _check(name_rules.check_dns1123_subdomain(value, "ServiceAccount name"))
        return value

    def clean_workload_name(self) -> str:
        value = self.cleaned_data.get("workload_name", "").strip()
        if value:
            _check(name_rules.check_dns1123_subdomain(value, "workload name"))
        return value

    def clean_mount_path(self) -> str:
        value = self.cleaned_data["mount_path"].strip()
        _check(name_rules.check_mount_path(value))
        return value

    def clean_justification(self) -> str:
        value = self.cleaned_data.get("justification", "").strip()
        if not value:
            raise ValidationError("Tell the approvers why this service needs these secrets.")
        return value

    def clean_expires_on(self) -> datetime.date | None:
        value = self.cleaned_data.get("expires_on")
        if value and value <= timezone.localdate():
            raise ValidationError("The expiry date must be in the future.")
        return value

    def clean(self):
        data = super().clean()
        service = data.get("service")
        if service:
            data["workload_name"] = data.get("workload_name") or service
            if not data.get("service_account"):
                default = name_rules.default_service_account(service)
                message = name_rules.check_dns1123_subdomain(default, "ServiceAccount name")
                if message:
                    self.add_error("service_account", message)
                data["service_account"] = default
        cluster, namespace, account = (
            data.get("cluster"),
            data.get("namespace"),
            data.get("service_account"),
        )
        if cluster and namespace and account:
            clash = (
                AccessRequest.objects.filter(
                    cluster=cluster,
                    namespace=namespace,
                    service_account=account,
                    state__in=OPEN_STATES,
                )
                .exclude(pk=self.instance.pk)
                .values_list("pk", flat=True)
                .first()
            )
            if clash:
                self.add_error(
                    "service_account",
                    f"ServiceAccount {account} in {cluster.name}/{namespace} is already "
                    f"used by request #{clash}; ask for a change there or pick another name.",
                )
        return data


class SecretGrantForm(forms.Form):
    secret = forms.CharField(
        label="Secret ARN or name",
        max_length=2048,
        help_text="arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>, or the name.",
    )
    alias = forms.CharField(
        label="File name (alias)",
        required=False,
        max_length=253,
        help_text="The file under the mount path; blank: the secret's name.",
    )
    any_suffix = forms.BooleanField(
        label="Grant on any version suffix (<name>-??????)",
        required=False,
        help_text="Keeps working when the secret is deleted and re-created.",
    )
    cross_account = forms.BooleanField(
        label="This secret is in another AWS account",
        required=False,
        help_text="It then needs a resource policy on the secret and a customer-managed KMS key.",
    )
    kms_key_arn = forms.CharField(label="Customer-managed KMS key ARN", required=False)
    jmes = forms.CharField(
        label="JSON keys as files",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: 'PATH as FILE', e.g. 'username as db-username'.",
    )
    sync_secret_name = forms.CharField(
        label="Sync into Kubernetes Secret", required=False, max_length=253
    )
    sync_secret_type = forms.ChoiceField(
        label="Secret type",
        choices=[(t, t) for t in name_rules.SYNC_SECRET_TYPES],
        initial="Opaque",
    )
    sync_keys = forms.CharField(
        label="Secret keys and env vars",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: '[FILE ->] KEY [as ENV_VAR]', e.g. 'rds_password as DB_PASSWORD'.",
    )

    def __init__(self, *args, cluster: Cluster | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cluster = cluster

    def clean_secret(self) -> str:
        value = self.cleaned_data["secret"].strip()
        try:
            self.secret_ref = name_rules.parse_secret_ref(value)
        except name_rules.SecretRefError as error:
            raise ValidationError(str(error)) from None
        return value

    def use_resolved_secret(self, arn: str) -> None:
        """Take the full ARN that AWS resolved a name or partial ARN to. A
        plain name forces ``any_suffix`` in ``grant_data``; a resolved ARN
        does not, so the grant follows the requester's choice."""
        self.secret_ref = name_rules.parse_secret_ref(arn)
        self.cleaned_data["secret"] = arn

    def clean_kms_key_arn(self) -> str:
        value = self.cleaned_data.get("kms_key_arn", "").strip()
        if value:
            _check(name_rules.check_kms_key_arn(value))
        return value

    def clean_sync_secret_name(self) -> str:
        value = self.cleaned_data.get("sync_secret_name", "").strip()
        if value:
            _check(name_rules.check_dns1123_subdomain(value, "Kubernetes Secret name"))
        return value

    def clean_jmes(self) -> list[dict[str, str]]:
        entries = parse_jmes_lines(self.cleaned_data.get("jmes", ""))
        errors = [m for m in (name_rules.check_alias(e["alias"]) for e in entries) if m]
        errors += [
            f"The JSON path '{e['path']}' may not contain '../'."
            for e in entries
            if "../" in e["path"]
        ]
        if errors:
            raise ValidationError(errors)
        return entries

    def clean(self):
        data = super().clean()
        ref = getattr(self, "secret_ref", None)
        if ref is not None:
            self._clean_alias(data, ref)
            self._check_against_cluster(data, ref)
        self._clean_sync(data)
        return data

    def _clean_alias(self, data, ref: name_rules.SecretRef) -> None:
        alias = (data.get("alias") or "").strip() or ref.name.rsplit("/", 1)[-1]
        message = name_rules.check_alias(alias)
        if message:
            self.add_error("alias", message)
        data["alias"] = alias

    def _check_against_cluster(self, data, ref: name_rules.SecretRef) -> None:
        cluster = self.cluster
        if cluster is None or not ref.is_arn:
            return
        if ref.region != cluster.region:
            self.add_error(
                "secret",
                f"ARN region must match region {cluster.region}: the secret is in {ref.region}, "
                f"the cluster {cluster.name} in {cluster.region}.",
            )
        if ref.account != cluster.aws_account_id and not data.get("cross_account"):
            self.add_error(
                "secret",
                f"The secret is in account {ref.account}, the cluster in "
                f"{cluster.aws_account_id}. Cross-account access needs a resource policy on "
                "the secret and a customer-managed KMS key: tick 'another AWS account' to go on.",
            )
        if ref.account != cluster.aws_account_id and not data.get("kms_key_arn"):
            self.add_error(
                "kms_key_arn",
                "A secret in another account must use a customer-managed KMS key: give its ARN.",
            )

    def _clean_sync(self, data) -> None:
        alias = data.get("alias") or ""
        try:
            keys = parse_sync_lines(self.cleaned_data.get("sync_keys", ""), default_object=alias)
        except ValidationError as error:
            self.add_error("sync_keys", error)
            return
        errors = []
        for entry in keys:
            errors.append(name_rules.check_secret_key_name(entry["key"]))
            if "env" in entry:
                errors.append(name_rules.check_env_var_name(entry["env"]))
        names = [e["key"] for e in keys]
        if len(set(names)) != len(names):
            errors.append("Each key of the Kubernetes Secret is listed once.")
        errors = [e for e in errors if e]
        if errors:
            self.add_error("sync_keys", errors)
        name = data.get("sync_secret_name")
        if keys and not name and "sync_secret_name" not in self.errors:
            self.add_error("sync_secret_name", "Name the Kubernetes Secret these keys go into.")
        if name and not keys:
            self.add_error("sync_keys", "List at least one key for the Kubernetes Secret.")
        data["sync_keys"] = keys

    def grant_data(self) -> dict:
        """The SecretGrant fields of this (valid) form."""
        data = self.cleaned_data
        return {
            "secret": data["secret"],
            "alias": data["alias"],
            "any_suffix": data["any_suffix"] or not (self.secret_ref.is_full_arn),
            "kms_key_arn": data["kms_key_arn"],
            "jmes": data["jmes"],
            "sync_secret_name": data["sync_secret_name"],
            "sync_secret_type": data["sync_secret_type"] if data["sync_secret_name"] else "Opaque",
            "sync_keys": data["sync_keys"] if data["sync_secret_name"] else [],
        }


class BaseSecretGrantFormSet(forms.BaseFormSet):
    """Checks across the secrets of one request, reported on the later field."""

    def clean(self):
        if any(self.errors):
            return
        files: dict[str, int] = {}
        secrets_synced: dict[str, int] = {}
        env_vars: dict[str, int] = {}
        forms_ = [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        for number, form in enumerate(forms_, start=1):
            data = form.cleaned_data
            for alias, field in [(data["alias"], "alias")] + [
                (e["alias"], "jmes") for e in data["jmes"]
            ]:
                if alias in files:
                    form.add_error(
                        field,
                        f"found duplicate object alias {alias}: secret #{files[alias]} "
                        "already mounts a file with that name.",
                    )
                files.setdefault(alias, number)
            name = data.get("sync_secret_name")
            if name:
                if name in secrets_synced:
                    form.add_error(
                        "sync_secret_name",
                        f"Secret #{secrets_synced[name]} already syncs into {name}; list all "
                        "its keys there (a key may read any mounted file with 'FILE -> KEY').",
                    )
                secrets_synced.setdefault(name, number)
            for entry in data.get("sync_keys", []):
                env = entry.get("env")
                if env and env in env_vars:
                    form.add_error(
                        "sync_keys",
                        f"The environment variable {env} is already set by secret "
                        f"#{env_vars[env]}; names must be unique in each container.",
                    )
                elif env:
                    env_vars[env] = number
        for form in forms_:
            for entry in form.cleaned_data.get("sync_keys", []):
                if entry["object"] not in files:
                    form.add_error(
                        "sync_keys",
                        f"file matching objectName {entry['object']} not found: "
                        "a key must read a mounted file (an alias or a JSON-key file).",
                    )


SecretGrantFormSet = forms.formset_factory(
    SecretGrantForm,
    formset=BaseSecretGrantFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_SECRETS,
    validate_max=True,
    can_delete=True,
)


def active_cluster_from(data) -> Cluster | None:
    """The cluster a bound form names, for the secrets' cluster checks."""
    value = (data or {}).get("cluster")
    if not value or not str(value).isdigit():
        return None
    return Cluster.objects.filter(pk=value, active=True).first()
