"""Buttons that only enqueue a background job for one cluster ("Refresh now",
"Discover now"): the page never waits on the cluster."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from secrets_app.models import Cluster


def queue_for_cluster(
    request: HttpRequest, cluster: Cluster, task, *, what: str, page: str
) -> HttpResponse:
    """Enqueue ``task(cluster id)`` once the transaction commits, say so, and
    go back to the cluster's ``page`` (a URL name), which shows the result
    once the job is done."""
    cluster_id = cluster.pk
    transaction.on_commit(lambda: task.delay(cluster_id))
    messages.success(request, f"{what} is queued; this page shows it once it finishes.")
    return redirect(page, name=cluster.name)
