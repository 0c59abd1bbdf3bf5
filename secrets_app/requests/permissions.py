"""Who may do what with a request or a binding (roles: ``accounts.roles``)."""

from __future__ import annotations

from secrets_app.accounts.roles import is_admin, is_approver
from secrets_app.models import AccessRequest, Binding, Namespace
from secrets_app.ownership import teams
from secrets_app.requests.states import WorkflowError


def can_comment(user, request: AccessRequest) -> bool:
    return request.requester_id == user.pk or is_approver(user) or is_admin(user)


def can_cancel(user, request: AccessRequest) -> bool:
    return request.requester_id == user.pk


def can_edit_draft(user, request: AccessRequest) -> bool:
    """Who may change a draft's fields and secrets (``drafts`` also wants a
    draft): its requester, and admins helping them."""
    return user.is_authenticated and (request.requester_id == user.pk or is_admin(user))


def can_decide(user, request: AccessRequest) -> bool:
    """Whether to offer approve/reject; the workflow re-checks and explains refusals."""
    return is_approver(user) and request.requester_id != user.pk


def can_request_revocation(user, binding: Binding) -> bool:
    """The owner, whoever asked for the grant, the platform team and admins."""
    if not (user.is_authenticated and user.is_active):
        return False
    grant_requester = binding.request.requester_id if binding.request_id else None
    return user.pk in (binding.owner_id, grant_requester) or is_approver(user) or is_admin(user)


def can_request_change(user, binding: Binding) -> bool:
    """The owner, members of the team that owns the binding's namespace, and
    admins: those who would file its grant today (approvers approve changes,
    they do not ask for them)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.pk == binding.owner_id or is_admin(user):
        return True
    team = (
        Namespace.objects.filter(cluster_id=binding.cluster_id, name=binding.namespace)
        .values_list("team_id", flat=True)
        .first()
    )
    return team is not None and team in teams.team_ids(user)


def binding_for_owner(binding_id: int, requester, *, lock: bool, asking: str) -> Binding:
    """The binding (locked when ``lock``) if ``requester`` may ask to
    ``asking`` it (``can_request_change``); else a ``WorkflowError``."""
    rows = Binding.objects.select_related("cluster", "request", "owner")
    if lock:
        rows = rows.select_for_update(of=("self",))
    try:
        binding = rows.get(pk=binding_id)
    except Binding.DoesNotExist:
        raise WorkflowError("This binding does not exist.", code="not_found") from None
    if not can_request_change(requester, binding):
        raise WorkflowError(
            "Only the binding's owner, members of the team that owns namespace "
            f"{binding.namespace} in {binding.cluster.name}, and admins can ask to {asking} it.",
            code="forbidden",
        )
    return binding
