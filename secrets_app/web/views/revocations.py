"""Asking for a binding's access to be revoked. The revocation is a request
of kind "revoke": from here on it is approved and carried out like a grant."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from secrets_app.requests import revocation, workflow
from secrets_app.web.forms.decisions import RevokeForm
from secrets_app.web.views.bindings import binding_detail


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
