"""AWS pages: the secret picker of the request form and "verify now" on a
binding. Thin: services look things up, tasks do the work."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from secrets_app.aws_portal import search_secrets
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
    """Options for the secret field's <datalist>: names starting with what
    was typed, in the chosen cluster's account and region (ListSecrets)."""
    raw = request.GET.get("cluster", "")
    number = raw.isascii() and raw.isdigit()  # not "²", which the query would choke on
    cluster = Cluster.objects.filter(pk=raw, active=True).first() if number else None
    query = picker_query(request.GET).strip()
    found, error = [], ""
    if cluster is not None and query:
        found, error = search_secrets(cluster, query)
    context = {"cluster": cluster, "query": query, "secrets": found, "error": error}
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
