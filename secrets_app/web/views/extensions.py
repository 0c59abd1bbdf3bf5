"""Asking for a binding's expiry to move later. The extension is a request
of kind "extend": approved like a grant, it moves the date (no pull requests)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from secrets_app.requests import extension, workflow
from secrets_app.requests.filing import FilingInvalid
from secrets_app.web.forms.decisions import ExtendForm
from secrets_app.web.views.bindings import binding_detail


@require_POST
def binding_extend(request: HttpRequest, pk: int) -> HttpResponse:
    form = ExtendForm(request.POST)
    if not form.is_valid():
        return binding_detail(request, pk, status=400, extra={"extend_form": form})
    try:
        asked = extension.request_extension(
            binding_id=pk,
            requester=request.user,
            expires_on=form.cleaned_data["expires_on"],
            justification=form.cleaned_data["justification"],
        )
    except FilingInvalid as invalid:
        for problem in invalid.problems:
            form.add_error(problem.path or None, problem.message)
        return binding_detail(request, pk, status=400, extra={"extend_form": form})
    except workflow.WorkflowError as refused:
        if refused.code == "not_found":
            return binding_detail(request, pk)  # the 404 page
        form.add_error(None, refused.message)
        return binding_detail(request, pk, status=refused.status, extra={"extend_form": form})
    messages.success(
        request, f"Extension request #{asked.pk} is waiting for the platform team's approval."
    )
    return redirect(asked)
