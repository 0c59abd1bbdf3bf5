"""Asking for a change of a binding, and what a change does to the files.
Thin: the change page (``ChangePage``) hands what was typed to the change
service; the diff is ``requests.diffs``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from secrets_app.models import AccessRequest, Binding, RequestKind, RequestState
from secrets_app.rendering import render_binding
from secrets_app.rendering.name_rules import is_number
from secrets_app.requests import changes
from secrets_app.requests.diffs import change_diff, diff_for_request
from secrets_app.requests.states import WorkflowError
from secrets_app.web.forms.requests import MAX_SECRETS, ChangePage, secret_initial
from secrets_app.web.views.bindings import binding_detail

#: Requests that can be copied into a new one (nothing else ended unfinished).
COPYABLE = (RequestState.REJECTED, RequestState.CANCELLED)


@require_http_methods(["GET", "POST"])
def binding_change(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        binding = changes.changeable(pk, request.user)
    except WorkflowError as refused:
        if refused.code == "not_found":
            raise Http404(refused.message) from None
        if refused.code == "forbidden":
            raise PermissionDenied(refused.message) from None
        messages.error(request, refused.message)
        return binding_detail(request, pk, status=refused.status)
    diff = None
    if request.method == "POST":
        page = ChangePage(request.POST, requester=request.user, binding=binding)
        if request.POST.get("action") == "preview":
            if page.check() is not None and page.change is not None:
                rendered = render_binding(page.change.checked.spec).files
                diff = change_diff(binding.cluster, rendered, page.change.deletes)
        else:
            filed = page.file(submit=True)
            if filed is not None:
                for warning in page.warnings:
                    messages.warning(request, warning)
                messages.success(
                    request,
                    f"Change request #{filed.request.pk} is waiting for the platform team's "
                    "approval.",
                )
                return redirect(filed.request)
        for warning in page.warnings:
            messages.warning(request, warning)
    else:
        page = _blank_page(request, binding)
    fields, _ = changes.current_values(binding)
    context = {
        "binding": binding,
        "fixed": fields,
        "form": page.form,
        "formset": page.formset,
        "diff": diff,
    }
    return render(request, "secrets_app/binding_change.html", context)


def _blank_page(request: HttpRequest, binding: Binding) -> ChangePage:
    """The binding's mount path and secrets as they are, or those of a
    rejected or cancelled change of it (``?copy=<id>``); ``?secrets=N`` (no
    JavaScript: "add another secret") adds blank ones up to N."""
    fields, secrets = changes.current_values(binding)
    initial = {"mount_path": fields["mount_path"]}
    copy = request.GET.get("copy", "")
    if copy:
        source = copyable(request, copy, kind=RequestKind.CHANGE)
        if source.changes_id != binding.pk:
            raise Http404("That request changes another binding.")
        initial = {"mount_path": source.mount_path, "justification": source.justification}
        secrets = [g.filed() for g in source.secrets.order_by("position")]
    wanted = request.GET.get("secrets", "")
    count = min(int(wanted), MAX_SECRETS) if is_number(wanted) and len(wanted) < 3 else 0
    return ChangePage(
        requester=request.user,
        binding=binding,
        initial=initial,
        secrets_initial=[secret_initial(s, binding.cluster) for s in secrets],
        secrets=count,
    )


def copyable(request: HttpRequest, pk: str, *, kind: str) -> AccessRequest:
    """A rejected or cancelled request of the user's, of ``kind``, to copy."""
    if not is_number(pk) or len(pk) > 18:
        raise Http404("No such request.")
    source = get_object_or_404(
        AccessRequest.objects.select_related("cluster"), pk=int(pk), kind=kind
    )
    if source.requester_id != request.user.pk:
        raise PermissionDenied("Only the requester can copy a request.")
    if source.state not in COPYABLE:
        raise Http404("Only rejected and cancelled requests are copied.")
    return source


@require_GET
def request_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """A change request's files against the repositories now: loaded into
    the request page (htmx), or a page of its own."""
    change = get_object_or_404(
        AccessRequest.objects.select_related("cluster"), pk=pk, kind=RequestKind.CHANGE
    )
    context = {"req": change, "diff": diff_for_request(change)}
    template = "_change_diff.html" if request.htmx else "request_diff.html"
    return render(request, f"secrets_app/{template}", context)
