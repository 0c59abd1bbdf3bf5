"""The request page: a form for the request and a formset of secrets, as a
thin adapter over the filing service (``requests.filing``).

The form fields only read the page's formats (a comma-separated list of
containers, line formats for JSON keys and synced keys, a date) and keep
values within the database's column sizes; every rule about the values is
the filing service's, which reports each problem at a request path that
``RequestPage`` puts on the field it names. Fields the requester may leave
blank take their defaults in the service, which also says what it
"required"; the page marks those fields with the HTML ``required`` attribute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from secrets_app.accounts.roles import is_admin
from secrets_app.models import AccessRequest, Binding, Cluster, WorkloadKind
from secrets_app.rendering import name_rules
from secrets_app.requests import changes, filing
from secrets_app.requests.drafts import crosses_account
from secrets_app.requests.filing.paths import field_of
from secrets_app.requests.filing.rules import MAX_SECRETS
from secrets_app.requests.states import WorkflowError
from secrets_app.web.forms.lines import jmes_lines, parse_jmes_lines, parse_sync_lines, sync_lines
from secrets_app.web.forms.namespaces import chosen_cluster, namespace_suggestions

PREFIX = "secrets"
#: The id of the namespace field's <datalist> (``namespace_suggestions``).
NAMESPACE_LIST = "namespace-suggestions"
_MARKED_REQUIRED = {"required": True}


def _text(label: str | None = None, *, max_length: int, required_mark: bool = False, **kwargs):
    widget = kwargs.pop("widget", forms.TextInput)
    attrs = dict(_MARKED_REQUIRED) if required_mark else {}
    return forms.CharField(
        label=label, required=False, max_length=max_length, widget=widget(attrs=attrs), **kwargs
    )


class AccessRequestForm(forms.Form):
    cluster = forms.CharField(required=False, widget=forms.Select(attrs=_MARKED_REQUIRED))
    service = _text(
        max_length=63,
        required_mark=True,
        help_text="Lower-case DNS name, e.g. data-access-service.",
    )
    namespace = _text(max_length=63, required_mark=True)
    workload_kind = forms.ChoiceField(
        choices=WorkloadKind.choices, initial=WorkloadKind.DEPLOYMENT, required=False
    )
    workload_name = _text(max_length=253, help_text="Blank: the service name.")
    containers = _text(
        max_length=1000,
        required_mark=True,
        help_text="Containers that mount the secrets, comma-separated (e.g. app).",
    )
    service_account = _text(
        "ServiceAccount",
        max_length=253,
        help_text="Blank: <service>-secrets, as in the guide. The SecretProviderClass "
        "takes the same name.",
    )
    restart_on_change = forms.BooleanField(
        label="Restart the pods when a synced Secret changes",
        required=False,
        help_text="Adds Stakater Reloader's annotation (secret.reloader.stakater.com/reload) "
        "to the workload; needs Reloader in the cluster and a synced Secret. Env vars "
        "read from synced Secrets change only on a restart.",
    )
    name_prefix = _text(
        "Kustomize namePrefix",
        max_length=253,
        help_text="Only if the service's kustomization (or an overlay above it) sets "
        "namePrefix: all of them, outermost first. The role trusts the renamed "
        "ServiceAccount.",
    )
    name_suffix = _text(
        "Kustomize nameSuffix",
        max_length=253,
        help_text="Likewise for nameSuffix: innermost first.",
    )
    mount_path = _text(max_length=1024, initial=name_rules.DEFAULT_MOUNT_PATH)
    role_name = _text(
        "IAM role name",
        max_length=64,
        help_text="Blank: derived from cluster, namespace and service.",
    )
    justification = _text(
        max_length=20000,
        required_mark=True,
        widget=forms.Textarea,
        help_text="Why this service needs these secrets; approvers read this.",
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: access is revoked on this date.",
    )

    def __init__(self, *args, requester: AbstractBaseUser | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["justification"].widget.attrs["rows"] = 3
        self.fields["cluster"].widget.choices = [
            ("", "Choose a cluster"),
            *Cluster.objects.filter(active=True).order_by("name").values_list("pk", "name"),
        ]
        self.namespace_suggestions = []
        if requester is not None:
            self._suggest_namespaces(requester)

    def _suggest_namespaces(self, requester: AbstractBaseUser) -> None:
        """The namespaces of the requester's teams, offered first; still a text field."""
        # The cluster chosen: as posted, or as prefilled (a copied request).
        cluster = chosen_cluster(
            self.data.get("cluster") if self.is_bound else self.initial.get("cluster")
        )
        self.namespace_suggestions = namespace_suggestions(requester, cluster)
        field = self.fields["namespace"]
        if self.namespace_suggestions:
            field.widget.attrs["list"] = NAMESPACE_LIST
            field.help_text = "Your teams' namespaces are suggested first."
        elif not is_admin(requester):
            where = f" in {cluster.name}" if cluster is not None else ""
            field.help_text = (
                f"None of your teams owns a namespace{where} yet: the platform team sets "
                "owners (the namespace's team label, or in the portal's admin)."
            )

    def clean_containers(self) -> list[str]:
        return [n.strip() for n in self.cleaned_data["containers"].split(",") if n.strip()]

    def filing_data(self) -> dict[str, Any]:
        """The request's fields in the filing service's input form."""
        values = getattr(self, "cleaned_data", {})
        return {name: values.get(name) for name in self.fields}


class SecretGrantForm(forms.Form):
    secret = _text(
        "Secret ARN or name",
        max_length=2048,
        required_mark=True,
        help_text="arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>, or the name.",
    )
    alias = _text(
        "File name (alias)",
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
    kms_key_arn = _text("Customer-managed KMS key ARN", max_length=2048)
    jmes = _text(
        "JSON keys as files",
        max_length=20000,
        widget=forms.Textarea,
        help_text="One per line: 'PATH as FILE', e.g. 'username as db-username'.",
    )
    sync_secret_name = _text("Sync into Kubernetes Secret", max_length=253)
    sync_secret_type = forms.ChoiceField(
        label="Secret type",
        choices=[(t, t) for t in name_rules.SYNC_SECRET_TYPES],
        initial="Opaque",
        required=False,
    )
    sync_keys = _text(
        "Secret keys and env vars",
        max_length=20000,
        widget=forms.Textarea,
        help_text="One per line: '[FILE ->] KEY [as ENV_VAR]', e.g. 'rds_password as DB_PASSWORD'.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("jmes", "sync_keys"):
            self.fields[name].widget.attrs["rows"] = 2

    def clean_jmes(self) -> list[dict[str, str]]:
        return parse_jmes_lines(self.cleaned_data["jmes"])

    def clean_sync_keys(self) -> list[dict[str, str]]:
        # The file a key reads defaults to the secret's alias: the filing
        # service fills it in (``object`` left out).
        entries = parse_sync_lines(self.cleaned_data["sync_keys"], default_object="")
        return [{k: v for k, v in e.items() if v} for e in entries]

    def filing_data(self) -> dict[str, Any]:
        values = getattr(self, "cleaned_data", {})
        return {name: values.get(name) for name in self.fields if name != "DELETE"}


class BaseSecretGrantFormSet(forms.BaseFormSet):
    def add_non_form_error(self, message: str) -> None:
        self.non_form_errors().append(message)


SecretGrantFormSet = forms.formset_factory(
    SecretGrantForm,
    formset=BaseSecretGrantFormSet,
    extra=0,
    max_num=MAX_SECRETS,
    validate_max=True,
    can_delete=True,
)


class RequestPage:
    """The page's form and formset, checked and filed by the filing service,
    with every problem on the field it names. ``initial`` and
    ``secrets_initial`` prefill an unbound page (a copy of a request)."""

    form_class: type[forms.Form] = AccessRequestForm

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        requester: AbstractBaseUser,
        secrets: int = 1,
        initial: Mapping[str, Any] | None = None,
        secrets_initial: list[dict[str, Any]] | None = None,
    ) -> None:
        self.requester = requester
        # Only the request form has a namespace to suggest (a change keeps its own).
        options = {"requester": requester} if issubclass(self.form_class, AccessRequestForm) else {}
        self.form = self.form_class(data, initial=initial, **options)
        if data is None:
            given = list(secrets_initial or [])
            secrets_initial = given + [{}] * max(secrets - len(given), 0)
        self.formset = SecretGrantFormSet(
            data, prefix=PREFIX, initial=None if data is not None else secrets_initial
        )
        self.checked: filing.Checked | None = None
        self.warnings: list[str] = []

    def _check(self, data: dict[str, Any], *, check_aws: bool) -> filing.Checked:
        return filing.request_check(requester=self.requester, data=data, check_aws=check_aws)

    def _file(self, data: dict[str, Any], *, submit: bool) -> filing.Filed:
        return filing.request_file(requester=self.requester, data=data, submit=submit)

    def check(self) -> filing.Checked | None:
        """What would be filed, or None with the problems on their fields."""
        return self._outcome(submit=None)

    def file(self, *, submit: bool) -> filing.Filed | None:
        """The filed request, or None with the problems on their fields."""
        return self._outcome(submit=submit)

    def _outcome(self, *, submit: bool | None) -> filing.Checked | filing.Filed | None:
        # Both run so that all the page's format errors show at once.
        readable = self.form.is_valid() & self.formset.is_valid()
        unreadable = {id(f): set(f.errors) for f in [self.form, *self.formset.forms]}
        data = self._filing_data()
        outcome: filing.Checked | filing.Filed | None = None
        try:
            if not readable:
                # The format errors refuse the request already: the service
                # still says everything else that is wrong, AWS's "no such
                # secret" too (a field it could not read reaches it blank).
                self._check(data, check_aws=True)
            elif submit is None:
                outcome = self.checked = self._check(data, check_aws=True)
            else:
                outcome = self._file(data, submit=submit)
                self.checked = outcome.checked
        except filing.FilingInvalid as invalid:
            self.warnings = invalid.warnings
            self._show(invalid.problems, unreadable)
            return None
        if self.checked is not None:
            self.warnings = self.checked.warnings
            self._show_resolved(self.checked.resolved)
        return outcome

    def error_summary(self) -> list[tuple[str, str, str]]:
        """Every error on the page, for a list at its top, so that all of
        them show at once however long the page: (field id or "", where,
        message), in the page's order."""
        found: list[tuple[str, str, str]] = []
        for prefix, form in [("", self.form)] + [
            (f"Secret {i} · ", f) for i, f in enumerate(self.formset.forms, start=1)
        ]:
            for name, errors in form.errors.items():
                field = form[name] if name in form.fields else None
                where = prefix + (str(field.label) if field else "")
                for message in errors:
                    found.append((field.auto_id if field else "", where.rstrip(" ·"), message))
        found += [("secret-forms", "Secrets", m) for m in self.formset.non_form_errors()]
        return found

    def _secret_forms(self) -> list[forms.Form]:
        return [f for f in self.formset.forms if not f.cleaned_data.get("DELETE")]

    def _filing_data(self) -> dict[str, Any]:
        return {
            **self.form.filing_data(),
            "secrets": [f.filing_data() for f in self._secret_forms()],
        }

    def _show(self, problems: Iterable[filing.Problem], unreadable: dict[int, set[str]]) -> None:
        secret_forms = self._secret_forms()
        for problem in problems:
            field = field_of(problem.path)
            if field.secret is not None and field.secret < len(secret_forms):
                form = secret_forms[field.secret]
            elif field.name == PREFIX:
                self.formset.add_non_form_error(problem.message)
                continue
            else:
                form = self.form
            name = field.name if field.name in form.fields else None
            # A field the page could not read reached the service blank: its
            # format error says what is wrong there.
            if name not in unreadable[id(form)]:
                form.add_error(name, ValidationError(linked(problem.message)))

    def _show_resolved(self, resolved: Mapping[str, str]) -> None:
        """Put what AWS resolved into the bound data too, so the page shown
        again (preview, or another field's error) displays what was checked
        and the next submit sends it."""
        secret_forms = self._secret_forms()
        for path, value in resolved.items():
            field = field_of(path)
            if field.secret is not None and field.secret < len(secret_forms):
                form = secret_forms[field.secret]
                data = form.data.copy()  # a request's QueryDict is immutable
                data[form.add_prefix(field.name)] = value
                form.data = data


class DraftPage(RequestPage):
    """A draft's page: checked as its requester's request (whoever edits) and
    saved onto the same draft by ``filing.request_edit``."""

    def __init__(self, data=None, *, draft: AccessRequest, editor: AbstractBaseUser, **kwargs):
        super().__init__(data, requester=draft.requester, **kwargs)
        self.draft = draft
        self.editor = editor

    def _file(self, data: dict[str, Any], *, submit: bool) -> filing.Filed:
        return filing.request_edit(
            editor=self.editor, request_id=self.draft.pk, data=data, submit=submit
        )


#: How the claims say that a ServiceAccount is another binding's.
_ASK_FOR_CHANGE = re.compile(r"ask for a change of binding #(?P<pk>[0-9]+) instead")


def linked(message: str) -> str:
    """A problem's words for the page: "ask for a change of binding #N"
    becomes a link to that binding's change page (the API keeps the text)."""
    match = _ASK_FOR_CHANGE.search(message)
    if match is None:
        return message
    url = reverse("binding-change", args=[int(match["pk"])])
    return format_html(
        "{}{}{}",
        message[: match.start()],
        format_html('<a href="{}">{}</a>', url, match[0]),
        message[match.end() :],
    )


class ChangeForm(forms.Form):
    """What a change request may change besides the secrets (the formset)."""

    mount_path = _text(
        max_length=1024,
        required_mark=True,
        help_text="Where the secrets' files appear in the containers.",
    )
    justification = _text(
        "Why this change?",
        max_length=20000,
        required_mark=True,
        widget=forms.Textarea,
        help_text="Approvers read this.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["justification"].widget.attrs["rows"] = 3

    def filing_data(self) -> dict[str, Any]:
        values = getattr(self, "cleaned_data", {})
        return {name: values.get(name) for name in self.fields}


class ChangePage(RequestPage):
    """The change page of a binding: its mount path, the reason and every
    secret it will have, checked and filed by the change service."""

    form_class = ChangeForm

    def __init__(self, data=None, *, binding: Binding, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.binding = binding
        #: What the last check said the change does (``changes.ChangeChecked``).
        self.change: changes.ChangeChecked | None = None

    def _check(self, data: dict[str, Any], *, check_aws: bool) -> filing.Checked:
        self.change = self._refusal_as_problem(
            changes.change_check,
            binding_id=self.binding.pk,
            requester=self.requester,
            data=data,
            check_aws=check_aws,
        )
        return self.change.checked

    def _file(self, data: dict[str, Any], *, submit: bool) -> filing.Filed:
        return self._refusal_as_problem(
            changes.request_change,
            binding_id=self.binding.pk,
            requester=self.requester,
            data=data,
        )

    @staticmethod
    def _refusal_as_problem(service, **kwargs):
        # The view let the user in; a refusal now (a change filed meanwhile)
        # is said on the page.
        try:
            return service(**kwargs)
        except WorkflowError as refused:
            raise filing.FilingInvalid([filing.Problem("", refused.message)]) from None


def secret_initial(grant: Mapping[str, Any], cluster: Cluster) -> dict[str, Any]:
    """One saved secret (``SecretGrant.FILED_FIELDS``) as the page's fields."""
    return {
        "secret": grant["secret"],
        "alias": grant["alias"],
        "any_suffix": grant.get("any_suffix", False),
        # Ticked when it was filed: the rules ask for it again on submit.
        "cross_account": crosses_account(grant["secret"], cluster),
        "kms_key_arn": grant.get("kms_key_arn", ""),
        "jmes": jmes_lines(grant.get("jmes") or []),
        "sync_secret_name": grant.get("sync_secret_name", ""),
        "sync_secret_type": grant.get("sync_secret_type") or "Opaque",
        "sync_keys": sync_lines(grant.get("sync_keys") or [], default_object=grant["alias"]),
    }


def request_initial(
    request: AccessRequest, *, drop_past_expiry: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A saved request's fields and secrets as the request page's initial
    values: a copy that is saved only when submitted, or a draft to edit. A
    copy leaves out an expiry date that has passed; a draft shows it, and
    saving says it must be in the future (``drop_past_expiry=False``)."""
    fields = request.filed()
    fields["cluster"] = request.cluster_id
    fields["containers"] = ", ".join(request.containers)
    past = fields["expires_on"] and fields["expires_on"] <= timezone.localdate()
    if drop_past_expiry and past:
        fields["expires_on"] = None
    secrets = [
        secret_initial(g.filed(), request.cluster) for g in request.secrets.order_by("position")
    ]
    return fields, secrets
