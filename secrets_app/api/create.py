"""Filing a request through the API with the web form's own validation.

The JSON (already shape-checked by ``inputs.RequestCreateInput``) is turned
into the POST data the page would send, then the same steps run as in
``views.requests.request_create``: form and formset, the AWS lookup, the
renderer's spec checks, and ``workflow.request_create``. Errors come back
keyed like the JSON: ``{"namespace": [...], "secrets": [{"alias": [...]}, {}]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.forms import Form

from secrets_app import aws_portal
from secrets_app.models import AccessRequest, Cluster
from secrets_app.rendering import BindingSpec, SpecInvalid
from secrets_app.requests import workflow
from secrets_app.requests.specs import spec_data
from secrets_app.web.forms import AccessRequestForm, SecretGrantFormSet, active_cluster_from
from secrets_app.web.forms.lines import format_jmes_lines
from secrets_app.web.forms.spec_errors import attach_spec_problems

PREFIX = "secrets"
NON_FIELD = "non_field_errors"
_REQUEST_FIELDS = (
    "service",
    "namespace",
    "workload_kind",
    "workload_name",
    "service_account",
    "role_name",
    "mount_path",
    "justification",
    "expires_on",
)
_SECRET_TEXT_FIELDS = ("secret", "alias", "kms_key_arn", "sync_secret_name", "sync_secret_type")


@dataclass
class Outcome:
    request: AccessRequest | None = None
    errors: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _cluster_id(value: str) -> str:
    """The form takes a cluster's id; automation often knows its name."""
    value = value.strip()
    if value.isdigit():
        return value
    pk = Cluster.objects.filter(name=value).values_list("pk", flat=True).first()
    # An unknown name stays as given so the form reports it on ``cluster``.
    return str(pk) if pk is not None else value


def _sync_lines(entries: list[dict[str, str]]) -> str:
    # The object is written only when given: the form's default (the alias)
    # is only known after its own cleaning.
    lines = []
    for e in entries:
        line = f"{e['object']} -> {e['key']}" if e.get("object") else e["key"]
        if e.get("env"):
            line += f" as {e['env']}"
        lines.append(line)
    return "\n".join(lines)


def form_data(data: dict[str, Any]) -> dict[str, Any]:
    """The POST data the request page would send for this JSON."""
    post: dict[str, Any] = {
        name: data[name] for name in _REQUEST_FIELDS if data.get(name) is not None
    }
    post["cluster"] = _cluster_id(data["cluster"])
    post["containers"] = ", ".join(data["containers"])
    secrets = data["secrets"]
    post.update(
        {
            f"{PREFIX}-TOTAL_FORMS": str(len(secrets)),
            f"{PREFIX}-INITIAL_FORMS": "0",
            f"{PREFIX}-MIN_NUM_FORMS": "1",
            f"{PREFIX}-MAX_NUM_FORMS": str(SecretGrantFormSet.max_num),
        }
    )
    for i, secret in enumerate(secrets):
        key = f"{PREFIX}-{i}-"
        post.update({key + n: secret[n] for n in _SECRET_TEXT_FIELDS if n in secret})
        # Checkbox semantics: present means ticked.
        post.update({key + n: "on" for n in ("any_suffix", "cross_account") if secret.get(n)})
        post[key + "jmes"] = format_jmes_lines(secret.get("jmes") or [])
        post[key + "sync_keys"] = _sync_lines(secret.get("sync_keys") or [])
    return post


def _as_lists(errors: Any, data: Any) -> Any:
    """DRF keys a list's item errors by index ({0: {...}}); the API answers
    with one entry per item, as for the form's errors: [{...}, {}]."""
    if isinstance(errors, dict) and errors and all(isinstance(k, int) for k in errors):
        items = data if isinstance(data, list) else []
        size = max(len(items), max(errors) + 1)
        if all(isinstance(e, list) for e in errors.values()):
            # Items of a list of names (containers): "item 2: ..." like the form.
            return [f"Item {i + 1}: {m}" for i, e in sorted(errors.items()) for m in e]
        return [
            _as_lists(errors.get(i, {}), items[i] if i < len(items) else None) for i in range(size)
        ]
    if isinstance(errors, dict):
        sub = data if isinstance(data, dict) else {}
        return {k: _as_lists(v, sub.get(k)) for k, v in errors.items()}
    return errors


def shape_errors(errors: dict[str, Any], data: Any) -> dict[str, Any]:
    """The input serializer's errors in the API's error format."""
    return _as_lists(errors, data)


def _errors_of(form: Form) -> dict[str, list[str]]:
    return {
        (NON_FIELD if name == "__all__" else name): list(messages)
        for name, messages in form.errors.items()
    }


def _collect(form: Form, formset) -> dict[str, Any]:
    errors: dict[str, Any] = _errors_of(form)
    if formset.non_form_errors():
        errors.setdefault(NON_FIELD, []).extend(formset.non_form_errors())
    per_secret = [_errors_of(f) for f in formset.forms]
    if any(per_secret):
        errors["secrets"] = per_secret
    return errors


def request_create_from_api(*, requester: AbstractBaseUser, data: dict[str, Any]) -> Outcome:
    """Validate like the request page and file the request, or say why not."""
    post = form_data(data)
    form = AccessRequestForm(post, requester=requester)
    formset = SecretGrantFormSet(
        post, prefix=PREFIX, form_kwargs={"cluster": active_cluster_from(post)}
    )
    # Both run so that every problem is reported at once, as on the page.
    valid = form.is_valid() & formset.is_valid()
    if not valid or not aws_portal.lookup_secrets(formset, form.cleaned_data["cluster"]):
        return Outcome(
            errors=_collect(form, formset), warnings=getattr(formset, "aws_warnings", [])
        )
    warnings = list(formset.aws_warnings)
    secret_forms = list(formset.forms)
    grants = [f.grant_data() for f in secret_forms]
    try:
        BindingSpec.from_dict(
            spec_data(**form.cleaned_data, secrets=grants, requester=requester.get_username())
        )
    except SpecInvalid as invalid:
        attach_spec_problems(invalid.problems, form, secret_forms)
        return Outcome(errors=_collect(form, formset), warnings=warnings)
    try:
        created = workflow.request_create(
            requester=requester, secrets=grants, submit=data["submit"], **form.cleaned_data
        )
    except workflow.WorkflowError as error:
        return Outcome(errors={NON_FIELD: [error.message]}, warnings=warnings)
    return Outcome(request=created, warnings=warnings)
