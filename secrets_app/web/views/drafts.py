"""Editing a draft on the request page. Thin: the draft's page
(``DraftPage``) hands what was typed to the filing service, which saves it
onto the same draft (``filing.request_edit``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from secrets_app.models import AccessRequest, RequestState
from secrets_app.rendering.name_rules import is_number
from secrets_app.requests.drafts import editable_draft
from secrets_app.requests.preview import build_preview
from secrets_app.requests.states import WorkflowError
from secrets_app.web.forms.requests import MAX_SECRETS, DraftPage, request_initial


@require_http_methods(["GET", "POST"])
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        draft = editable_draft(pk, request.user)
    except WorkflowError as refused:
        return _refused(request, pk, refused)
    can_submit = draft.requester_id == request.user.pk
    preview = None
    if request.method == "POST":
        page = DraftPage(request.POST, draft=draft, editor=request.user)
        action = request.POST.get("action", "draft")
        if action == "preview":
            checked = page.check()
            preview = build_preview(checked.spec) if checked else None
        else:
            try:
                filed = page.file(submit=action == "submit" and can_submit)
            except WorkflowError as refused:  # submitted or cancelled meanwhile
                return _refused(request, pk, refused)
            if filed is not None:
                for warning in page.warnings:
                    messages.warning(request, warning)
                submitted = filed.request.state != RequestState.DRAFT
                done = "submitted for approval" if submitted else "saved as a draft"
                messages.success(request, f"Request #{pk} {done}.")
                if action == "submit" and not can_submit:
                    who = draft.requester.get_username()
                    messages.info(request, f"Only {who}, who asked for it, can submit it.")
                return redirect(filed.request)
        for warning in page.warnings:
            messages.warning(request, warning)
    else:
        initial, secrets_initial = request_initial(draft, drop_past_expiry=False)
        # Without JavaScript, "add another secret" reloads with ?secrets=N.
        wanted = request.GET.get("secrets", "")
        count = min(int(wanted), MAX_SECRETS) if is_number(wanted) and len(wanted) < 3 else 0
        page = DraftPage(
            draft=draft,
            editor=request.user,
            initial=initial,
            secrets_initial=secrets_initial,
            secrets=count,
        )
    context = {
        "form": page.form,
        "formset": page.formset,
        "preview": preview,
        "draft": draft,
        "can_submit": can_submit,
    }
    return render(request, "secrets_app/request_form.html", context)


def _refused(request: HttpRequest, pk: int, refused: WorkflowError) -> HttpResponse:
    if refused.code == "not_found":
        raise Http404(refused.message)
    if refused.code == "forbidden":
        raise PermissionDenied(refused.message)
    # Not a draft (any more): its page says where it stands.
    messages.error(request, refused.message)
    return redirect(AccessRequest(pk=pk))
