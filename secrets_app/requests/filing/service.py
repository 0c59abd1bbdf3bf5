"""Filing an access request: one service behind the request page, the API
and the demo.

``request_check`` normalises what was filed (``draft``), runs every rule at
once (the request's own, ``rules``, and the renderer's spec checks on the
binding it would render), asks AWS about each secret that is typed well
(even when other fields are wrong, so that every problem shows in one pass),
and returns what would be filed: the fields, the secrets with what
AWS resolved, the spec, and warnings. ``request_file`` then saves it;
``request_edit`` saves it onto a draft instead (``requests.drafts``).
Problems come back together in one ``FilingInvalid``, each at the path of
the field that caused it (``secrets[1].alias``, see ``paths``), for the
adapters to put on their own fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from secrets_app.aws_portal.lookup import Lookup, SecretToCheck, lookup_secrets
from secrets_app.models import AccessRequest, Binding
from secrets_app.rendering import BindingSpec
from secrets_app.requests import drafts, workflow
from secrets_app.requests.filing import paths, rules
from secrets_app.requests.filing.cluster_readiness import cluster_readiness_warnings
from secrets_app.requests.filing.draft import Draft, read_draft
from secrets_app.requests.filing.workload_accounts import replaced_account_warnings


@dataclass(frozen=True)
class Problem:
    path: str  # a request path (see ``paths``); "" for the request as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(request)'}: {self.message}"


class FilingInvalid(ValueError):
    """The request cannot be filed; ``problems`` says why, field by field."""

    def __init__(self, problems: Sequence[Problem], warnings: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        self.warnings = list(warnings)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass
class Checked:
    """What would be filed."""

    fields: dict[str, Any]  # AccessRequest.FILED_FIELDS (cluster: the Cluster)
    secrets: list[dict[str, Any]]  # SecretGrant.FILED_FIELDS, one per secret
    spec: BindingSpec
    #: For the requester: what AWS could not check, what needs attention.
    warnings: list[str] = field(default_factory=list)
    #: Request paths of the values AWS filled in, with those values.
    resolved: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Filed:
    request: AccessRequest
    checked: Checked


def request_check(
    *,
    requester: AbstractBaseUser,
    data: Mapping[str, Any],
    check_aws: bool = True,
    changing: Binding | None = None,
) -> Checked:
    """Check what was filed (raises ``FilingInvalid``). ``check_aws=False``
    skips the AWS lookup, for an adapter that refuses the input anyway.

    ``changing``: the binding a change request rewrites (``changes``), whose
    fixed fields ``data`` carries. Its ServiceAccount, role and files are the
    asker's own then, its role name is the binding's whatever the scheme
    says today, and who may ask was decided by the binding's owner and team
    (``changes``), not by the namespace rule of a new grant."""
    draft = read_draft(data)
    username = requester.get_username()
    said = rules.namespace_warnings(draft)
    problems = rules.resolve_cluster(draft) + rules.request_rules(draft)
    if changing is None:
        problems += rules.ownership(draft, requester)
    spec, spec_problems = rules.build_spec(draft, requester=username)
    problems += spec_problems
    if changing is None:
        problems += rules.derived_role(draft, requester, problems)
    problems += rules.claimed(draft, spec, binding_id=getattr(changing, "pk", None))
    # AWS is asked about every secret typed well, whatever else is wrong, so
    # that a secret that does not exist is said in the same pass as the rest.
    lookup = _lookup(draft, problems) if check_aws else Lookup()
    problems += [(f"secrets[{i}].secret", m) for i, m in lookup.missing.items()]
    _raise_if(problems, draft, [*said, *lookup.warnings])
    resolved = {}
    for index, values in lookup.resolved.items():
        draft.secrets[index].take_resolved(**values)
        resolved.update({f"secrets[{index}].{name}": v for name, v in values.items()})
    if resolved:
        spec, spec_problems = rules.build_spec(draft, requester=username)
        _raise_if(spec_problems, draft, [*said, *lookup.warnings])
    if spec is None:  # pragma: no cover - no problems means the renderer read it
        raise RuntimeError("the spec has no problems and yet was not read")
    return Checked(
        fields=draft.filed(),
        secrets=[s.grant() for s in draft.secrets],
        spec=spec,
        warnings=[
            *said,
            *cluster_readiness_warnings(draft),
            *replaced_account_warnings(draft),
            *lookup.warnings,
        ],
        resolved=resolved,
    )


def request_file(
    *, requester: AbstractBaseUser, data: Mapping[str, Any], submit: bool = True
) -> Filed:
    """Check and save a request, submitted for approval unless ``submit`` is
    False (a draft). Raises ``FilingInvalid``."""
    checked = request_check(requester=requester, data=data)
    try:
        created = workflow.request_create(
            requester=requester, secrets=checked.secrets, submit=submit, **checked.fields
        )
    except workflow.WorkflowError as refused:
        # A claim taken by a concurrent filing comes back on its field.
        problems = [Problem(path, message) for path, message in refused.problems]
        raise FilingInvalid(problems or [Problem("", refused.message)], checked.warnings) from None
    return Filed(request=created, checked=checked)


def request_edit(
    *, editor: AbstractBaseUser, request_id: int, data: Mapping[str, Any], submit: bool = False
) -> Filed:
    """Check new values for a draft exactly as filing does, and save them onto
    it (submitted too when ``submit``). Raises ``FilingInvalid`` for the
    values, ``WorkflowError`` when ``editor`` may not edit it or it is no
    longer a draft (asked before anything is checked).

    The rules are the request's requester's (whose namespaces, whose role
    names), whoever edits: an admin fixing a draft files it for them."""
    draft = drafts.editable_draft(request_id, editor, submitting=submit)
    checked = request_check(requester=draft.requester, data=data)
    try:
        edited = drafts.draft_replace(
            request_id=draft.pk,
            editor=editor,
            secrets=checked.secrets,
            submit=submit,
            **checked.fields,
        )
    except workflow.WorkflowError as refused:
        if not refused.problems:
            raise  # not the values: submitted meanwhile, or not the editor's to submit
        problems = [Problem(path, message) for path, message in refused.problems]
        raise FilingInvalid(problems, checked.warnings) from None
    return Filed(request=edited, checked=checked)


def _lookup(draft: Draft, problems: rules.Problems) -> Lookup:
    """What AWS says of each secret whose reference reads and has no problem
    of its own (nothing to ask when the cluster itself is in question)."""
    if draft.cluster is None or any(paths.is_under(p, "cluster") for p, _ in problems):
        return Lookup()
    broken = {p for p, _ in problems}
    to_check = [
        SecretToCheck(s.secret, s.ref, s.kms_key_arn)
        if s.ref is not None and not any(paths.is_under(p, f"secrets[{i}].secret") for p in broken)
        else None
        for i, s in enumerate(draft.secrets)
    ]
    return lookup_secrets(draft.cluster, to_check) if any(to_check) else Lookup()


def _raise_if(problems: rules.Problems, draft: Draft, warnings: list[str]) -> None:
    kept = rules.without_echoes(problems, draft.derived)
    if kept:
        raise FilingInvalid([Problem(path, message) for path, message in kept], warnings)
