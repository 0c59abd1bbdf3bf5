"""How a request moves between states: the row is locked before its state
is read, and every move writes its audit event in the same transaction. A
refusal is a ``WorkflowError`` whose code says what kind of refusal it is and
so which HTTP status the pages and the API answer with."""

from __future__ import annotations

from secrets_app.events.audit import audit_record
from secrets_app.models import AccessRequest, RequestState
from secrets_app.ownership import claims

#: States in which a request still holds or is getting access.
OPEN_STATES = (
    RequestState.PENDING,
    RequestState.APPROVED,
    RequestState.PROVISIONING,
    RequestState.ACTIVE,
    RequestState.NEEDS_ATTENTION,
    RequestState.FAILED,
)
#: States in which the pull-request task has work to do.
PROVISIONABLE = (RequestState.APPROVED, RequestState.PROVISIONING)
#: States from which the platform team may send a request back to that task.
RETRYABLE = (RequestState.FAILED, RequestState.NEEDS_ATTENTION)


class WorkflowError(Exception):
    """An action the rules refuse; the message is shown to the user as is."""

    # "Not allowed" and "no such thing" differ from "not now" (409, every
    # other code): scripts and tests branch on the status.
    STATUS_OF_CODE = {"forbidden": 403, "own_request": 403, "not_found": 404}

    def __init__(self, message: str, *, code: str = "refused", problems=()):
        super().__init__(message)
        self.message = message
        self.code = code
        #: (request path, message) pairs when the refusal is about fields
        #: (a claim another binding holds): adapters show them there.
        self.problems = list(problems)

    @property
    def status(self) -> int:
        return self.STATUS_OF_CODE.get(self.code, 409)


def lock_request(request_id: int) -> AccessRequest:
    try:
        return (
            AccessRequest.objects.select_for_update(of=("self",))
            .select_related("cluster", "requester")
            .get(pk=request_id)
        )
    except AccessRequest.DoesNotExist:
        raise WorkflowError("This request does not exist.", code="not_found") from None


def require_state(request: AccessRequest, *allowed: str, doing: str) -> None:
    if request.state not in allowed:
        names = " or ".join(str(s).replace("_", " ") for s in allowed)
        raise WorkflowError(
            f"Request #{request.pk} is {request.get_state_display().lower()}; "
            f"only {names} requests can be {doing}.",
            code="wrong_state",
        )


def move_state(request: AccessRequest, *, to: str, actor, action: str, message: str = "", **fields):
    """Set a (locked) request's state and record the move."""
    before = {"state": request.state}
    request.state = to
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=["state", "updated_at", *fields])
    if to not in OPEN_STATES and to != RequestState.DRAFT:
        # Rejected, cancelled or done: its claims are free (a grant's went to
        # its binding when it became active).
        claims.release_request(request)
    audit_record(
        actor=actor,
        action=action,
        obj=request,
        request=request,
        before=before,
        after={"state": to},
        message=message,
    )


def move_other_state(request: AccessRequest, to: str, *, actor, action: str) -> None:
    """Move a request other than the one being worked on (a revocation moves
    its grant): lock it first, then keep the caller's copy in step."""
    move_state(lock_request(request.pk), to=to, actor=actor, action=action)
    request.state = to
