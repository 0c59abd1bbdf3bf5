"""Expected status of every URL pattern for every role.

Keys are URL names (``admin:...`` for the admin) or, for the few unnamed
patterns, the route itself. Each status tuple is, in order, for
anonymous, requester (owner of the objects), another requester, approver,
admin (staff + superuser, not in the platform group). ``LOGIN`` means a
redirect to a login page; ``302`` a redirect anywhere else.

A pattern missing here fails ``test_every_url_pattern_is_in_the_table``
with its name: add it with what each role should get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.factories import GUIDE_ARN

LOGIN = "login"

Statuses = tuple[Any, Any, Any, Any, Any]

# Shorthands.
PAGE: Statuses = (LOGIN, 200, 200, 200, 200)  # any logged-in user
REDIRECT: Statuses = (LOGIN, 302, 302, 302, 302)
NOT_ALLOWED: Statuses = (LOGIN, 405, 405, 405, 405)  # wrong method, after login
ADMIN_PAGE: Statuses = (LOGIN, LOGIN, LOGIN, LOGIN, 200)
ADMIN_403: Statuses = (LOGIN, LOGIN, LOGIN, LOGIN, 403)
ADMIN_302: Statuses = (LOGIN, LOGIN, LOGIN, LOGIN, 302)
PUBLIC: Statuses = (200, 200, 200, 200, 200)
OIDC_OFF: Statuses = (404, 404, 404, 404, 404)  # public routes, off unless OIDC_ENABLED
API_READ: Statuses = (401, 200, 200, 200, 200)
API_APPROVE: Statuses = (401, 403, 403, 200, 403)


@dataclass(frozen=True)
class Ref:
    """A POST value filled from World.ids (an id known only once created)."""

    key: str


@dataclass(frozen=True)
class Entry:
    get: Statuses
    post: Statuses | None = None  # None: not an action URL
    kwargs: dict[str, str] = field(default_factory=dict)  # url kwarg -> World.ids key
    path: str | None = None  # concrete path for unnamed or catch-all patterns
    data: dict[str, Any] = field(default_factory=dict)  # POST body (form or JSON)
    json: bool = False  # POST body as JSON (the API)


PK_REQUEST = {"pk": "request"}
PK_ACTIVE = {"pk": "active_request"}
PK_BINDING = {"pk": "binding"}
CLUSTER = {"name": "cluster_name"}

PORTAL: dict[str, Entry] = {
    # The overview: every logged-in user's landing page.
    "home": Entry(get=PAGE),
    "healthz": Entry(get=PUBLIC),
    "readyz": Entry(get=PUBLIC),
    # A bearer token or a staff session; 401 with WWW-Authenticate otherwise.
    "metrics": Entry(get=(401, 401, 401, 401, 200)),
    "login": Entry(get=PUBLIC, post=PUBLIC, data={"username": "nobody", "password": "wrong"}),
    "logout": Entry(get=(LOGIN, 405, 405, 405, 405), post=(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
    "oidc_authentication_init": Entry(get=OIDC_OFF),
    "oidc_authentication_callback": Entry(get=OIDC_OFF),
    "oidc_logout": Entry(get=OIDC_OFF, post=OIDC_OFF),
    "request-list": Entry(get=PAGE),
    # An empty form comes back with its field errors.
    "request-create": Entry(get=PAGE, post=PAGE),
    "request-secret-form": Entry(get=PAGE),
    "request-detail": Entry(get=PAGE, kwargs=PK_REQUEST),
    "request-approve": Entry(get=NOT_ALLOWED, post=(LOGIN, 403, 403, 302, 403), kwargs=PK_REQUEST),
    "request-reject": Entry(
        get=NOT_ALLOWED,
        post=(LOGIN, 403, 403, 302, 403),
        kwargs=PK_REQUEST,
        data={"reason": "Not needed."},
    ),
    "request-comment": Entry(
        get=NOT_ALLOWED,
        post=(LOGIN, 302, 403, 302, 302),
        kwargs=PK_REQUEST,
        data={"body": "A comment."},
    ),
    "request-cancel": Entry(get=NOT_ALLOWED, post=(LOGIN, 302, 403, 403, 403), kwargs=PK_REQUEST),
    # Already pending: the owner hears "not now" (409), everyone else "not yours".
    "request-submit": Entry(get=NOT_ALLOWED, post=(LOGIN, 409, 403, 403, 403), kwargs=PK_REQUEST),
    # Drafts only, by their requester or an admin: the pending request sends
    # them to its page; anyone else is refused.
    "request-edit": Entry(
        get=(LOGIN, 302, 403, 403, 302), post=(LOGIN, 302, 403, 403, 302), kwargs=PK_REQUEST
    ),
    "request-progress": Entry(get=PAGE, kwargs=PK_ACTIVE),
    # A change request's files against the repositories: as its page.
    "request-diff": Entry(get=PAGE, kwargs={"pk": "change_request"}),
    # Refusals come back as a message on the request page (the workflow decides).
    "request-retry": Entry(get=NOT_ALLOWED, post=REDIRECT, kwargs=PK_ACTIVE),
    # A local pull request's page, as its request's (tests/pulls/test_pull_page.py).
    "pull-request-detail": Entry(get=PAGE, kwargs={"pk": "pull"}),
    "pull-request-merge": Entry(get=NOT_ALLOWED, post=REDIRECT, kwargs={"pk": "pull"}),
    # HMAC instead of a login: no signature, 401, whoever asks.
    "github-webhook": Entry(
        get=(405, 405, 405, 405, 405), post=(401, 401, 401, 401, 401), data={"zen": "hi"}
    ),
    "approval-queue": Entry(get=(LOGIN, 403, 403, 200, 403)),
    "binding-list": Entry(get=PAGE),
    "binding-export": Entry(get=PAGE),
    "binding-detail": Entry(get=PAGE, kwargs=PK_BINDING),
    # Metadata reads only, queued: anyone who can see the binding may ask.
    "binding-verify": Entry(get=NOT_ALLOWED, post=REDIRECT, kwargs=PK_BINDING),
    # Revocation is asked, with a reason, by the binding's owner, an approver
    # or an admin; it is then approved like a grant.
    "binding-revoke": Entry(
        get=NOT_ALLOWED,
        post=(LOGIN, 302, 403, 302, 302),
        kwargs=PK_BINDING,
        data={"reason": "No longer needed."},
    ),
    # A change is asked by the owner, the namespace's team or an admin (not
    # approvers, who approve it); an empty form comes back with its errors.
    "binding-change": Entry(
        get=(LOGIN, 200, 403, 403, 200), post=(LOGIN, 200, 403, 403, 200), kwargs=PK_BINDING
    ),
    # An extension is asked by the owner, the namespace's team or an admin
    # (approvers approve it), with a later date and a reason.
    "binding-extend": Entry(
        get=NOT_ALLOWED,
        post=(LOGIN, 302, 403, 403, 302),
        kwargs=PK_BINDING,
        data={"expires_on": "2999-01-01", "justification": "Still needed."},
    ),
    # What a revocation would delete: shown to those who may ask for one.
    "binding-revoke-files": Entry(get=(LOGIN, 200, 403, 200, 200), kwargs=PK_BINDING),
    "aws-secret-picker": Entry(get=PAGE),
    # Who can read a secret: metadata every engineer may browse.
    "secret-index": Entry(get=PAGE),
    "secret-access": Entry(get=PAGE, path=f"/secrets/access/?secret={GUIDE_ARN}"),
    # Import from clusters: anyone reads; the platform team and admins run
    # discovery and adopt or dismiss.
    "import-list": Entry(get=PAGE),
    "import-cluster": Entry(get=PAGE, kwargs=CLUSTER),
    "import-discover": Entry(get=NOT_ALLOWED, post=(LOGIN, 403, 403, 302, 302), kwargs=CLUSTER),
    "import-decide": Entry(
        get=NOT_ALLOWED,
        post=(LOGIN, 403, 403, 302, 302),
        kwargs=CLUSTER,
        data={"action": "dismiss", "candidate": Ref("candidate")},
    ),
    # Fleet upgrades: admins only (a GitHub upgrade's merge button says no, politely).
    "fleet-upgrades": Entry(get=(LOGIN, 403, 403, 403, 200)),
    "fleet-upgrades-open": Entry(get=NOT_ALLOWED, post=(LOGIN, 403, 403, 403, 302)),
    "fleet-upgrade": Entry(get=(LOGIN, 403, 403, 403, 200), kwargs={"pk": "upgrade"}),
    "fleet-upgrade-merge": Entry(
        get=NOT_ALLOWED, post=(LOGIN, 403, 403, 403, 302), kwargs={"pk": "upgrade"}
    ),
    "health-overview": Entry(get=PAGE),
    "health-cluster": Entry(get=PAGE, kwargs=CLUSTER),
    "health-namespace": Entry(get=PAGE, kwargs={"name": "cluster_name", "namespace": "namespace"}),
    # A sweep is list calls under a lock: any logged-in user may queue one.
    "health-refresh": Entry(get=NOT_ALLOWED, post=REDIRECT, kwargs=CLUSTER),
    # Access reviews: anyone reads them and their CSV; only the owning team
    # (the requester's) or an admin answers.
    "review-list": Entry(get=PAGE),
    "review-detail": Entry(get=PAGE, kwargs={"pk": "review"}),
    "review-export": Entry(get=PAGE, kwargs={"pk": "review"}),
    "review-decide": Entry(
        get=NOT_ALLOWED,
        post=(LOGIN, 302, 403, 403, 302),
        kwargs={"pk": "review", "item": "review_item"},
        data={"decision": "confirm"},
    ),
}

API: dict[str, Entry] = {
    "api-schema": Entry(get=API_READ),
    # A page for people: anonymous visitors go to the login form.
    "api-docs": Entry(get=PAGE),
    "api-request-list": Entry(get=API_READ, post=(401, 400, 400, 400, 400), json=True),
    "api-request-detail": Entry(get=API_READ, kwargs=PK_REQUEST),
    "api-request-approve": Entry(
        get=(401, 405, 405, 405, 405), post=API_APPROVE, kwargs=PK_REQUEST, json=True
    ),
    "api-request-reject": Entry(
        get=(401, 405, 405, 405, 405),
        post=API_APPROVE,
        kwargs=PK_REQUEST,
        data={"reason": "Not needed."},
        json=True,
    ),
    "api-request-comment": Entry(
        get=(401, 405, 405, 405, 405),
        post=(401, 201, 403, 201, 201),
        kwargs=PK_REQUEST,
        data={"body": "A comment."},
        json=True,
    ),
    "api-request-cancel": Entry(
        get=(401, 405, 405, 405, 405),
        post=(401, 200, 403, 403, 403),
        kwargs=PK_REQUEST,
        json=True,
    ),
    "api-request-submit": Entry(
        get=(401, 405, 405, 405, 405),
        post=(401, 409, 403, 403, 403),
        kwargs=PK_REQUEST,
        json=True,
    ),
    "api-binding-list": Entry(get=API_READ, post=(401, 405, 405, 405, 405), json=True),
    "api-binding-detail": Entry(get=API_READ, kwargs=PK_BINDING),
    "api-binding-health": Entry(get=API_READ, kwargs=PK_BINDING),
    "api-binding-revoke": Entry(
        get=(401, 405, 405, 405, 405),
        post=(401, 201, 403, 201, 201),
        kwargs=PK_BINDING,
        data={"reason": "No longer needed."},
        json=True,
    ),
    # The owner, the owning team and admins; an empty body is refused on its fields.
    "api-binding-change": Entry(
        get=(401, 405, 405, 405, 405),
        post=(401, 400, 403, 403, 400),
        kwargs=PK_BINDING,
        json=True,
    ),
    # As on the page: the owner, the owning team and admins.
    "api-binding-extend": Entry(
        get=(401, 405, 405, 405, 405),
        post=(401, 201, 403, 403, 201),
        kwargs=PK_BINDING,
        data={"expires_on": "2999-01-01", "justification": "Still needed."},
        json=True,
    ),
    # As "Verify now" on the page: metadata reads only, queued, anyone may ask.
    "api-binding-verify": Entry(
        get=(401, 405, 405, 405, 405),
        post=(401, 202, 202, 202, 202),
        kwargs=PK_BINDING,
        json=True,
    ),
    # The audit log, newest first: admins only, as in the admin.
    "api-audit-list": Entry(get=(401, 403, 403, 403, 200)),
    "api-cluster-list": Entry(get=API_READ),
    "api-cluster-detail": Entry(get=API_READ, kwargs={"pk": "cluster"}),
    "api-not-found": Entry(get=(401, 404, 404, 404, 404), path="/api/no-such-thing/"),
}


def _model_admin(
    label: str, obj: str, *, add=ADMIN_PAGE, change=ADMIN_PAGE, delete=ADMIN_PAGE
) -> dict[str, Entry]:
    """The six patterns Django's admin gives each registered model."""
    app, _, model = label.rpartition("_")
    oid = {"object_id": obj}
    return {
        f"admin:{label}_changelist": Entry(get=ADMIN_PAGE),
        f"admin:{label}_add": Entry(get=add),
        f"admin:{label}_history": Entry(get=ADMIN_PAGE, kwargs=oid),
        f"admin:{label}_delete": Entry(get=delete, kwargs=oid),
        f"admin:{label}_change": Entry(get=change, kwargs=oid),
        # The old-style URL redirects to the change page.
        f"admin/{app}/{model}/<path:object_id>/": Entry(get=ADMIN_302, kwargs=oid),
    }


ADMIN: dict[str, Entry] = {
    "admin:index": Entry(get=ADMIN_PAGE),
    # The admin's own login: shown to anyone, the staff are sent on.
    "admin:login": Entry(get=(200, 200, 200, 200, 302)),
    # Logging out takes a POST; a GET changes nothing.
    "admin:logout": Entry(get=(LOGIN, 302, 302, 302, 405)),
    "admin:password_change": Entry(get=ADMIN_PAGE),
    "admin:password_change_done": Entry(get=ADMIN_PAGE),
    # Without its query parameters the autocomplete refuses.
    "admin:autocomplete": Entry(get=ADMIN_403),
    "admin:jsi18n": Entry(get=ADMIN_PAGE),
    "admin:view_on_site": Entry(
        get=ADMIN_302, kwargs={"content_type_id": "request_type", "object_id": "request"}
    ),
    "admin:app_list": Entry(get=ADMIN_PAGE, kwargs={"app_label": "app_label"}),
    "admin/(?P<url>.*)$": Entry(get=(LOGIN, LOGIN, LOGIN, LOGIN, 404), path="/admin/no-such-page/"),
    "admin:auth_user_password_change": Entry(get=ADMIN_PAGE, kwargs={"id": "user"}),
    **_model_admin("auth_group", "group"),
    **_model_admin("auth_user", "user"),
    **_model_admin("authtoken_tokenproxy", "token"),
    **_model_admin("secrets_app_cluster", "cluster"),
    # Namespaces: the sweep adds them, admins set owners and add unseen ones.
    **_model_admin("secrets_app_namespace", "namespace_row"),
    # Requests change only through the workflow; the admin shows them.
    **_model_admin("secrets_app_accessrequest", "request", add=ADMIN_403, delete=ADMIN_403),
    # Bindings: only the expiry date is an admin's to move; none added or deleted here.
    **_model_admin("secrets_app_binding", "binding", add=ADMIN_403, delete=ADMIN_403),
    # The audit log is append-only: no add, change or delete, for anyone.
    **_model_admin("secrets_app_auditevent", "audit_event", add=ADMIN_403, delete=ADMIN_403),
    # Login throttling (django-axes): attempts, successes and failures; an
    # admin unlocks a username by deleting its attempt.
    **_model_admin("axes_accessattempt", "access_attempt", add=ADMIN_403),
    **_model_admin("axes_accesslog", "access_log", add=ADMIN_403),
    **_model_admin("axes_accessfailurelog", "access_failure_log", add=ADMIN_403),
    # Notifications are written by the portal; the admin shows them (and resends).
    **_model_admin("secrets_app_notification", "notification", add=ADMIN_403, delete=ADMIN_403),
    # Fleet upgrades are opened and followed by the portal; the admin shows them.
    **_model_admin("secrets_app_upgrade", "upgrade", add=ADMIN_403, delete=ADMIN_403),
}
# POSTs that must be refused even to an admin: the audit log cannot be edited.
ADMIN["admin:secrets_app_auditevent_delete"] = Entry(
    get=ADMIN_403, post=ADMIN_403, kwargs={"object_id": "audit_event"}, data={"post": "yes"}
)
ADMIN["admin:secrets_app_auditevent_change"] = Entry(
    get=ADMIN_PAGE,
    post=ADMIN_403,
    kwargs={"object_id": "audit_event"},
    data={"message": "rewritten"},
)

TABLE: dict[str, Entry] = {**PORTAL, **API, **ADMIN}
