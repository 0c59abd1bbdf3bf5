"""Change requests: the owner of an active portal binding, a member of the
team that owns its namespace, or an admin asks for its secrets to change
(add or remove secrets; aliases, JSON keys, synced Secret keys and env vars;
the mount path). Its workload, ServiceAccount and role stay: those define
the binding, and moving them is a new grant and a revocation.

A change is an ``AccessRequest`` of kind ``change`` that points at its
binding (``changes``) and carries the binding's whole new shape: its fixed
fields copied from the binding's current request (``history``) and every
secret it will have. Its secrets go through the grant's checks (the filing
service, with the binding's claims counted as the asker's own); it is
approved, rejected, provisioned and tracked like a grant (``workflow``); its
pull requests rewrite the binding's files in place and delete those the new
render no longer has (``deletes``, fixed here, shown to the approvers); once
both merged, the binding takes the change's values (``bindings.changes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from secrets_app.bindings.history import current_request, secrets_summary
from secrets_app.events.audit import audit_record
from secrets_app.integrations.backends import REPOSITORIES
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSource,
    Cluster,
    RequestKind,
)
from secrets_app.rendering import render_binding
from secrets_app.rendering.names import default_role_name
from secrets_app.requests import filing, workflow
from secrets_app.requests.permissions import binding_for_owner
from secrets_app.requests.revocation import require_active, revocation_deletes
from secrets_app.requests.states import OPEN_STATES, WorkflowError

#: The fields that define a binding: a change keeps them. Request path -> words.
FIXED_FIELDS = {
    "cluster": "cluster",
    "namespace": "namespace",
    "service": "service",
    "workload_kind": "workload kind",
    "workload_name": "workload",
    "containers": "containers",
    "service_account": "ServiceAccount",
    "name_prefix": "namePrefix",
    "name_suffix": "nameSuffix",
    "role_name": "IAM role name",
}


@dataclass
class ChangeChecked:
    """What a change would file, and what it does to its binding."""

    binding: Binding
    checked: filing.Checked
    #: Paths of the binding's files the new render no longer has, per repository.
    deletes: dict[str, list[str]]
    #: Secrets by file name: ``added``, ``removed``, ``changed``.
    summary: dict[str, list[str]]
    #: ``[before, after]`` when the mount path moves, else None.
    mount_path: list[str] | None = None
    warnings: list[str] = field(default_factory=list)


def open_request_on(binding: Binding) -> AccessRequest | None:
    """A change or a revocation of ``binding`` still in progress."""
    return (
        AccessRequest.objects.filter(Q(changes=binding) | Q(revokes=binding))
        .filter(state__in=OPEN_STATES)
        .order_by("-created_at")
        .first()
    )


def changeable(binding_id: int, requester, *, lock: bool = False) -> Binding:
    """The binding, if ``requester`` may ask to change it now; else a
    ``WorkflowError`` that says why."""
    binding = binding_for_owner(binding_id, requester, lock=lock, asking="change")
    if binding.source == BindingSource.IMPORTED or current_request(binding) is None:
        raise WorkflowError(
            f"Binding #{binding.pk} was imported from the cluster: the portal did not write its "
            "files, so it cannot rewrite them. Change them in the repositories by hand, or ask "
            "to revoke it and file a new request.",
            code="imported",
        )
    require_active(binding, done="changed")
    if not binding.cluster.active:
        raise WorkflowError(
            f"Cluster {binding.cluster.name} takes no new requests.", code="inactive"
        )
    pending = open_request_on(binding)
    if pending is not None:
        what = "Change" if pending.kind == RequestKind.CHANGE else "Revocation"
        raise WorkflowError(
            f"{what} request #{pending.pk} for this binding is already open "
            f"({pending.get_state_display().lower()}): one change at a time. Wait for it "
            "to end (its requester may cancel it while it waits for approval).",
            code="duplicate",
        )
    return binding


def current_values(binding: Binding) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The binding's fields (``AccessRequest.BINDING_FIELDS``) and secrets
    (``SecretGrant.FILED_FIELDS``) as its files were rendered: what a change
    starts from."""
    request = current_request(binding)
    if request is None:
        raise WorkflowError("This binding has no request to start from.", code="imported")
    return (
        request.filed(AccessRequest.BINDING_FIELDS),
        [g.filed() for g in request.secrets.order_by("position")],
    )


def change_check(
    *, binding_id: int, requester, data: Mapping[str, Any], check_aws: bool = True
) -> ChangeChecked:
    """Check a change of ``binding_id`` (raises ``WorkflowError`` when it may
    not be asked for, ``filing.FilingInvalid`` with the problems when what
    was filed is wrong). ``data``: ``mount_path``, ``justification`` and
    ``secrets`` as the filing service takes them; a fixed field given with
    another value than the binding's is refused on its own path."""
    binding = changeable(binding_id, requester)
    fields, secrets = current_values(binding)
    fixed = _fixed_problems(binding, fields, data)
    mount_path = data.get("mount_path")
    merged = {
        **fields,
        "cluster": binding.cluster,
        "mount_path": fields["mount_path"] if mount_path is None else mount_path,
        "justification": data.get("justification"),
        "secrets": data.get("secrets") or [],
    }
    try:
        checked = filing.request_check(
            requester=requester,
            data=merged,
            check_aws=check_aws and not fixed,
            changing=binding,
        )
    except filing.FilingInvalid as invalid:
        raise filing.FilingInvalid(fixed + invalid.problems, invalid.warnings) from None
    if fixed:
        raise filing.FilingInvalid(fixed, checked.warnings)
    moved = (
        [fields["mount_path"], checked.fields["mount_path"]]
        if checked.fields["mount_path"] != fields["mount_path"]
        else None
    )
    if moved is None and checked.secrets == secrets:
        raise filing.FilingInvalid(
            [
                filing.Problem(
                    "secrets",
                    "This changes nothing: the binding already has exactly these secrets "
                    "at this mount path.",
                )
            ],
            checked.warnings,
        )
    old = revocation_deletes(binding)
    new = render_binding(checked.spec).files
    deletes = {repo: sorted(set(old.get(repo, [])) - set(new[repo])) for repo in REPOSITORIES}
    return ChangeChecked(
        binding=binding,
        checked=checked,
        deletes=deletes,
        summary=secrets_summary(secrets, checked.secrets),
        mount_path=moved,
        warnings=checked.warnings,
    )


def request_change(*, binding_id: int, requester, data: Mapping[str, Any]) -> filing.Filed:
    """Ask for a change of a binding; it waits for approval like a grant.
    Raises ``WorkflowError`` (who, which binding, when) or
    ``filing.FilingInvalid`` (what was filed). Checked first without the
    binding's lock (the AWS lookup may take a while), then again under it,
    where the change is filed and takes its claims."""
    result = change_check(binding_id=binding_id, requester=requester, data=data)
    checked = result.checked
    with transaction.atomic():
        binding = changeable(binding_id, requester, lock=True)
        try:
            change = workflow.request_create(
                requester=requester,
                secrets=checked.secrets,
                kind=RequestKind.CHANGE,
                changes=binding,
                **{**checked.fields, "expires_on": binding.expires_on},
            )
        except WorkflowError as refused:
            if not refused.problems:
                raise
            # A path of the new render taken by a concurrent filing.
            raise filing.FilingInvalid(
                [filing.Problem(path, message) for path, message in refused.problems],
                result.warnings,
            ) from None
        change.deletes = result.deletes
        change.save(update_fields=["deletes"])
        audit_record(
            actor=requester,
            action="binding.change_requested",
            obj=binding,
            request=change,
            message=checked.fields["justification"],
            after={"request": change.pk, **result.summary, "mount_path": result.mount_path},
        )
    return filing.Filed(request=change, checked=checked)


def _fixed_problems(
    binding: Binding, fields: Mapping[str, Any], data: Mapping[str, Any]
) -> list[filing.Problem]:
    problems = []
    for name, words in FIXED_FIELDS.items():
        given = data.get(name)
        if given in (None, "", [], ()):
            continue
        if _same(name, given, binding, fields):
            continue
        current = binding.cluster.name if name == "cluster" else fields.get(name)
        if name == "containers":
            current = ", ".join(current)
        problems.append(
            filing.Problem(
                name,
                f"A change request cannot change the {words}: binding #{binding.pk} keeps "
                f"{current or 'the derived one'}. To move this access, file a new request, "
                "then ask to revoke this binding.",
            )
        )
    return problems


def _same(name: str, given: Any, binding: Binding, fields: Mapping[str, Any]) -> bool:
    if name == "cluster":
        value = str(given.pk) if isinstance(given, Cluster) else str(given).strip()
        return value in (str(binding.cluster_id), binding.cluster.name)
    if name == "containers":
        items = given.split(",") if isinstance(given, str) else list(given)
        return [str(c).strip() for c in items if str(c).strip()] == list(fields["containers"])
    if name == "role_name":
        role = fields["role_name"] or default_role_name(
            binding.cluster.name, fields["namespace"], fields["service"]
        )
        return str(given).strip() == role
    return str(given).strip() == str(fields[name])
