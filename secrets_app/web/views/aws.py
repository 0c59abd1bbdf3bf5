"""AWS pages: the secret picker of the request form and "verify now" on a
binding. Thin: services look things up, tasks do the work."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from secrets_app.aws_portal import Picked, pick_secrets
from secrets_app.models import Binding, Cluster
from secrets_app.tasks.locks import Queued
from secrets_app.tasks.verification import enqueue_verification


def picker_query(params: Any) -> str:
    """The text typed: ``q``, or the secret field itself (htmx sends the
    input's own name, e.g. ``secrets-0-secret``)."""
    if params.get("q"):
        return str(params["q"])
    for key, value in params.items():
        if key.endswith("-secret") and value:
            return str(value)
    return ""


@require_GET
def secret_picker(request: HttpRequest) -> HttpResponse:
    """The secret field's list: the secrets of the chosen cluster's account
    and region whose name holds what was typed (all, by name, when nothing
    was), each a button that puts its ARN into the field."""
    raw = request.GET.get("cluster", "")
    number = raw.isascii() and raw.isdigit()  # not "²", which the query would choke on
    cluster = Cluster.objects.filter(pk=raw, active=True).first() if number else None
    query = picker_query(request.GET).strip()
    picked = pick_secrets(cluster, query) if cluster is not None else Picked([])
    context = {
        "cluster": cluster,
        "query": query,
        "picked": picked,
        "lookup": settings.PORTAL_AWS_LOOKUP,
    }
    return render(request, "secrets_app/_secret_picker.html", context)


#: What the binding page says after "Verify now".
VERIFY_MESSAGES = {
    Queued.QUEUED: (messages.INFO, "Verification against AWS is queued; reload in a moment."),
    Queued.ALREADY_QUEUED: (
        messages.INFO,
        "A verification of this binding is already queued; reload in a moment.",
    ),
    Queued.NOT_QUEUED: (messages.ERROR, "The verification could not be queued; try again later."),
}


@require_POST
def binding_verify(request: HttpRequest, pk: int) -> HttpResponse:
    binding = get_object_or_404(Binding, pk=pk)
    level, text = VERIFY_MESSAGES[enqueue_verification(binding.pk)]
    messages.add_message(request, level, text)
    return redirect(binding)
