"""Import from clusters: review what discovery found, adopt or dismiss it.

Pages read stored candidates only; "Discover now" enqueues the task. Every
engineer may look; only the platform team and admins may act (403 on the
POSTs otherwise). A refused or invalid action is a message on the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from secrets_app.bindings.adoption import (
    Decision,
    ImportRefused,
    can_review,
    candidate_proposal,
    candidates_adopt,
    candidates_dismiss,
)
from secrets_app.models import Cluster, ImportCandidate, TaskRun
from secrets_app.tasks.imports import KIND, discover_bindings
from secrets_app.web.views.queued import queue_for_cluster

Status = ImportCandidate.Status
PER_PAGE = 100
#: How the page names each status: "new" is what waits for a decision.
STATUS_LABELS = {
    Status.PROPOSED: "New",
    Status.KNOWN: "Known",
    Status.ADOPTED: "Adopted",
    Status.DISMISSED: "Dismissed",
    Status.GONE: "Gone",
}
STATUS_BADGES = {
    Status.PROPOSED: "state-pending",
    Status.KNOWN: "state-approved",
    Status.ADOPTED: "state-approved",
    Status.DISMISSED: "state-cancelled",
    Status.GONE: "state-rejected",
}


@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    """Clusters with their candidates per status and their last discovery."""
    last_run = TaskRun.objects.filter(kind=KIND, cluster=OuterRef("pk")).order_by("-started_at")
    counts = {
        f"n_{s}": Count("import_candidates", filter=Q(import_candidates__status=s)) for s in Status
    }
    clusters = (
        Cluster.objects.filter(active=True)
        .annotate(
            **counts,
            last_run_at=Subquery(last_run.values("started_at")[:1]),
            last_run_outcome=Subquery(last_run.values("outcome")[:1]),
        )
        .order_by("name")
    )
    context = {"clusters": clusters, "can_review": can_review(request.user)}
    return render(request, "secrets_app/import_list.html", context)


@require_GET
def import_cluster(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    status = request.GET.get("status", "")
    candidates = ImportCandidate.objects.filter(cluster=cluster).select_related(
        "binding", "decided_by"
    )
    if status in Status.values:
        candidates = candidates.filter(status=status)
    else:
        status = ""
    page = Paginator(candidates.order_by("namespace", "service_account"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    by_status = dict(
        ImportCandidate.objects.filter(cluster=cluster)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    context = {
        "cluster": cluster,
        "page": page,
        "rows": [_row(c) for c in page],
        "status": status,
        "statuses": [(s.value, STATUS_LABELS[s], by_status.get(s.value, 0)) for s in Status],
        "run": TaskRun.objects.filter(kind=KIND, cluster=cluster).first(),
        "can_review": can_review(request.user),
    }
    return render(request, "secrets_app/import_cluster.html", context)


def _row(candidate: ImportCandidate) -> dict:
    return {
        "candidate": candidate,
        "proposal": candidate_proposal(candidate),
        "label": STATUS_LABELS.get(candidate.status, candidate.status),
        "badge": STATUS_BADGES.get(candidate.status, ""),
        "decidable": candidate.status in (Status.PROPOSED, Status.DISMISSED),
    }


@require_POST
def import_discover(request: HttpRequest, name: str) -> HttpResponse:
    if not can_review(request.user):
        raise PermissionDenied("Only the platform team and admins may discover bindings.")
    cluster = get_object_or_404(Cluster, name=name)
    return queue_for_cluster(
        request,
        cluster,
        discover_bindings,
        what=f"Discovery in {cluster.name}",
        page="import-cluster",
    )


@require_POST
def import_decide(request: HttpRequest, name: str) -> HttpResponse:
    if not can_review(request.user):
        raise PermissionDenied("Only the platform team and admins may adopt or dismiss.")
    cluster = get_object_or_404(Cluster, name=name)
    back = reverse("import-cluster", args=[cluster.name])
    action = request.POST.get("action", "")
    ids = request.POST.getlist("candidate")
    if action not in ("adopt", "dismiss"):
        messages.error(request, "Choose Adopt or Dismiss.")
        return redirect(back)
    if not ids:
        messages.error(request, "Select at least one candidate.")
        return redirect(back)
    owner = None
    owner_name = request.POST.get("owner", "").strip()
    if action == "adopt" and owner_name:
        owner = get_user_model().objects.filter(username=owner_name, is_active=True).first()
        if owner is None:
            messages.error(request, f"Owner: there is no active user named {owner_name[:150]!r}.")
            return redirect(back)
    try:
        if action == "adopt":
            decision = candidates_adopt(
                candidate_ids=ids, actor=request.user, owner=owner, cluster=cluster
            )
        else:
            decision = candidates_dismiss(candidate_ids=ids, actor=request.user, cluster=cluster)
    except ImportRefused as error:
        messages.error(request, error.message)
        return redirect(back)
    _report(request, action, decision)
    return redirect(back)


def _report(request: HttpRequest, action: str, decision: Decision) -> None:
    done = "adopted" if action == "adopt" else "dismissed"
    if decision.done:
        names = ", ".join(f"{c.namespace}/{c.service_account}" for c in decision.done)
        messages.success(request, f"{len(decision.done)} {done}: {names}.")
    if decision.unchanged:
        messages.info(request, f"{len(decision.unchanged)} already {done}.")
    for _pk, reason in decision.refused:
        messages.error(request, reason)
