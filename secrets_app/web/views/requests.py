"""Pages for filing and following access requests. Thin: the request page's
adapter (``RequestPage``) hands what was typed to the filing service, workflow
services change state, templates show."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from secrets_app.models import AccessRequest, RequestKind, RequestState, SecretGrant, Verdict
from secrets_app.ownership.team_names import with_team_name
from secrets_app.rendering.name_rules import is_number
from secrets_app.requests import workflow
from secrets_app.requests.permissions import can_cancel, can_comment, can_decide, can_edit_draft
from secrets_app.requests.preview import build_preview, preview_for_request
from secrets_app.web.filters import RequestFilter
from secrets_app.web.forms.decisions import ApproveForm, CommentForm, RejectForm
from secrets_app.web.forms.requests import (
    MAX_SECRETS,
    RequestPage,
    SecretGrantFormSet,
    request_initial,
)
from secrets_app.web.tables import RequestTable
from secrets_app.web.views.changes import COPYABLE, copyable
from secrets_app.web.views.pulls import progress_context

#: States before any pull request could exist: no progress panel.
NOT_PROVISIONED = (
    RequestState.DRAFT,
    RequestState.PENDING,
    RequestState.REJECTED,
    RequestState.CANCELLED,
)


class MyRequestsView(SingleTableMixin, FilterView):
    template_name = "secrets_app/request_list.html"
    table_class = RequestTable
    filterset_class = RequestFilter
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        return with_team_name(
            AccessRequest.objects.filter(requester=self.request.user)
            .select_related("cluster")
            .annotate(secret_count=Count("secrets", distinct=True))
            .order_by("-created_at")
        )


@require_http_methods(["GET", "POST"])
def request_create(request: HttpRequest) -> HttpResponse:
    preview = None
    if request.method == "POST":
        page = RequestPage(request.POST, requester=request.user)
        action = request.POST.get("action", "submit")
        if action == "preview":
            checked = page.check()
            preview = build_preview(checked.spec) if checked else None
        else:
            filed = page.file(submit=action == "submit")
            if filed is not None:
                _show_warnings(request, page.warnings)
                verb = "submitted for approval" if action == "submit" else "saved as a draft"
                messages.success(request, f"Request #{filed.request.pk} {verb}.")
                return redirect(filed.request)
        _show_warnings(request, page.warnings)
    else:
        # Without JavaScript, "add another secret" reloads with ?secrets=N.
        wanted = request.GET.get("secrets", "1")
        count = min(int(wanted), MAX_SECRETS) if is_number(wanted) and wanted != "0" else 1
        prefill: dict = {}
        if request.GET.get("copy"):
            # A rejected or cancelled grant, copied: nothing is saved until submitted.
            source = copyable(request, request.GET["copy"], kind=RequestKind.GRANT)
            prefill["initial"], prefill["secrets_initial"] = request_initial(source)
            messages.info(
                request,
                f"A copy of request #{source.pk}: change what you need, then submit it.",
            )
        page = RequestPage(requester=request.user, secrets=count, **prefill)
    return render(
        request,
        "secrets_app/request_form.html",
        {
            "form": page.form,
            "formset": page.formset,
            "preview": preview,
            "errors": page.error_summary() if request.method == "POST" else [],
        },
    )


def _show_warnings(request: HttpRequest, warnings: list[str]) -> None:
    for warning in warnings:
        messages.warning(request, warning)


def _request_queryset():
    return with_team_name(
        AccessRequest.objects.select_related("cluster", "requester")
    ).prefetch_related(
        Prefetch("secrets", queryset=SecretGrant.objects.order_by("position")),
        "decisions__approver",
    )


def request_detail(
    request: HttpRequest, pk: int, *, status: int = 200, extra: dict | None = None
) -> HttpResponse:
    access_request = get_object_or_404(_request_queryset(), pk=pk)
    user = request.user
    approvals = sum(1 for d in access_request.decisions.all() if d.verdict == Verdict.APPROVE)
    state = access_request.state
    kind = access_request.kind
    # An extension has no pull requests to follow.
    show_progress = state not in NOT_PROVISIONED and kind != RequestKind.EXTEND
    context = {
        "req": access_request,
        "secrets": access_request.secrets.all(),
        "timeline": access_request.audit_events.all(),
        "approvals": approvals,
        "can_decide": can_decide(user, access_request)
        and state == RequestState.PENDING
        and not any(d.approver_id == user.pk for d in access_request.decisions.all()),
        "can_cancel": can_cancel(user, access_request)
        and state in (RequestState.DRAFT, RequestState.PENDING),
        "can_submit": can_cancel(user, access_request) and state == RequestState.DRAFT,
        "edit_url": reverse("request-edit", args=[pk])
        if state == RequestState.DRAFT
        and kind == RequestKind.GRANT
        and can_edit_draft(user, access_request)
        else "",
        "can_comment": can_comment(user, access_request),
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
        "comment_form": CommentForm(),
        # A change shows its diff against the repositories, loaded afterwards.
        # An extension writes no file: nothing to preview.
        "preview": preview_for_request(access_request)
        if kind not in (RequestKind.CHANGE, RequestKind.EXTEND)
        else None,
        "diff_url": reverse("request-diff", args=[pk]) if kind == RequestKind.CHANGE else "",
        "copy_url": _copy_url(user, access_request),
        "show_progress": show_progress,
        "progress": progress_context(request, access_request) if show_progress else None,
        **(extra or {}),
    }
    return render(request, "secrets_app/request_detail.html", context, status=status)


def _copy_url(user, access_request: AccessRequest) -> str:
    """Where "Copy into a new request" goes, for the requester of a rejected
    or cancelled grant or change ("" otherwise)."""
    if access_request.requester_id != user.pk or access_request.state not in COPYABLE:
        return ""
    if access_request.kind == RequestKind.GRANT:
        return f"{reverse('request-create')}?copy={access_request.pk}"
    if access_request.kind == RequestKind.CHANGE:
        return f"{reverse('binding-change', args=[access_request.changes_id])}?copy={access_request.pk}"
    return ""


def _action(service, *, success: str, form_class=None, key: str = "", invalid: str = ""):
    """A POST view that calls a workflow service for request ``pk`` and
    redirects to its page; a refusal shows the page with the reason and the
    refusal's status. ``service(user, pk, data)`` gets the form's cleaned
    text (a reason, a comment) when the action has a form; an invalid form is
    a 400 with ``invalid`` as the message."""

    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        data = {}
        if form_class is not None:
            form = form_class(request.POST)
            if not form.is_valid():
                messages.error(request, invalid)
                return request_detail(request, pk, status=400, extra={key: form})
            data = form.cleaned_data
        try:
            service(request.user, pk, data)
        except workflow.WorkflowError as error:
            messages.error(request, error.message)
            return request_detail(request, pk, status=error.status)
        messages.success(request, success)
        return redirect("request-detail", pk=pk)

    return view


request_approve = _action(
    lambda user, pk, data: workflow.request_approve(
        request_id=pk, approver=user, comment=data["comment"]
    ),
    form_class=ApproveForm,
    key="approve_form",
    invalid="The approval's comment is too long.",
    success="Your approval is recorded.",
)
request_reject = _action(
    lambda user, pk, data: workflow.request_reject(
        request_id=pk, approver=user, reason=data["reason"]
    ),
    form_class=RejectForm,
    key="reject_form",
    invalid="A rejection needs a reason for the requester.",
    success="The request is rejected.",
)
request_comment = _action(
    lambda user, pk, data: workflow.request_comment(request_id=pk, author=user, body=data["body"]),
    form_class=CommentForm,
    key="comment_form",
    invalid="A comment cannot be empty.",
    success="Comment added.",
)
request_cancel = _action(
    lambda user, pk, _: workflow.request_cancel(request_id=pk, actor=user),
    success="The request is cancelled.",
)
request_submit = _action(
    lambda user, pk, _: workflow.request_submit(request_id=pk, actor=user),
    success="The request is submitted for approval.",
)


def request_secret_form(request: HttpRequest) -> HttpResponse:
    """One more blank secret form (htmx), with the formset's total updated out of band."""
    raw = request.GET.get("index", "1")
    index = min(max(int(raw) if is_number(raw) else 1, 1), MAX_SECRETS - 1)
    form = SecretGrantFormSet(prefix="secrets").empty_form
    form.prefix = f"secrets-{index}"
    return render(
        request,
        "secrets_app/_secret_form_fragment.html",
        {"sf": form, "index": index, "number": index + 1, "total": index + 1},
    )
