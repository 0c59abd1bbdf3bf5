"""Asking for a binding's access to be revoked. The revocation is a request
of kind "revoke": from here on it is approved and carried out like a grant."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from secrets_app.requests import revocation, workflow
from secrets_app.requests.permissions import can_request_revocation
from secrets_app.web.forms.decisions import RevokeForm
from secrets_app.web.views.bindings import binding_detail, binding_queryset, revocation_files


@require_POST
def binding_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return binding_detail(request, pk, status=400, extra={"revoke_form": form})
    try:
        asked = revocation.request_revocation(
            binding_id=pk, requester=request.user, reason=form.cleaned_data["reason"]
        )
    except workflow.WorkflowError as refused:
        if refused.code == "not_found":
            return binding_detail(request, pk)  # the 404 page
        form.add_error(None, refused.message)
        return binding_detail(request, pk, status=refused.status, extra={"revoke_form": form})
    messages.success(
        request, f"Revocation request #{asked.pk} is waiting for the platform team's approval."
    )
    return redirect(asked)


@require_GET
def binding_revoke_files(request: HttpRequest, pk: int) -> HttpResponse:
    """The files a revocation of this binding would delete, or why it would be
    refused: loaded into the binding page (htmx), or a page of its own."""
    binding = get_object_or_404(binding_queryset(), pk=pk)
    if not can_request_revocation(request.user, binding):
        raise PermissionDenied("Only those who may ask to revoke it see what it would delete.")
    context = {"binding": binding, **revocation_files(binding)}
    template = "_revocation_files.html" if request.htmx else "revocation_files.html"
    return render(request, f"secrets_app/{template}", context)
