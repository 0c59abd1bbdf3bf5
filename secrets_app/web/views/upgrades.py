"""Fleet upgrades, for admins (staff) only: check every live binding's files
against today's render ("Check now": the dry run, with the diffs of the
bindings on the page), open the upgrade pull requests (queued: a task runs
the check again and opens them), and follow each upgrade and its bindings.
Anyone else gets 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from secrets_app.accounts.roles import is_admin
from secrets_app.fleet.check import STATUS_LABELS, Status, check_fleet
from secrets_app.fleet.diffs import binding_diffs
from secrets_app.fleet.repos import FleetRepos
from secrets_app.fleet.tracking import merge_local_upgrade
from secrets_app.integrations.errors import IntegrationError
from secrets_app.models import Cluster, TaskRun, Upgrade
from secrets_app.requests.workflow import WorkflowError
from secrets_app.tasks.upgrades import KIND, enqueue_open_upgrades

PER_PAGE = 25
STATUS_BADGES = {
    Status.CURRENT: "state-active",
    Status.OUTDATED: "state-pending",
    Status.HAND_EDITED: "state-failed",
    Status.UNKNOWN_ORIGIN: "state-failed",
    Status.CONFLICT: "state-failed",
    Status.BUSY: "state-cancelled",
    Status.UNRENDERABLE: "state-failed",
    Status.UNREADABLE: "state-failed",
}


def _admin_only(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise PermissionDenied("Fleet upgrades are for admins.")


@require_GET
def fleet_upgrades(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    clusters = list(Cluster.objects.order_by("name"))
    picked = next((c for c in clusters if str(c.pk) == request.GET.get("cluster")), None)
    status = request.GET.get("status", "")
    context = {
        "clusters": clusters,
        "picked": picked,
        "status": status if status in {s.value for s in Status} else "",
        "upgrades": Upgrade.objects.select_related("cluster")
        .annotate(
            n_bindings=Count("entries"),
            n_applied=Count("entries", filter=Q(entries__applied=True)),
        )
        .order_by("-opened_at", "-id")[:30],
        "runs": TaskRun.objects.filter(kind=KIND).order_by("-started_at", "-id")[:5],
    }
    if request.GET.get("check"):
        context.update(_checked(request, picked, context["status"]))
    return render(request, "secrets_app/fleet_upgrades.html", context)


def _checked(request: HttpRequest, cluster: Cluster | None, status: str) -> dict:
    """The dry run: counts, then a page of the bindings that differ, each
    with its diffs (read for that page only)."""
    repos = FleetRepos()
    report = check_fleet([cluster] if cluster else None, repos=repos)
    differing = report.differing()
    if status:
        differing = [c for c in differing if c.status == status]
    page = Paginator(differing, PER_PAGE).get_page(request.GET.get("page"))
    try:
        diffs = binding_diffs(list(page), repos)
        diff_problem = ""
    except IntegrationError as error:
        diffs, diff_problem = {}, f"The diffs could not be read: {error}"
    counts = report.counts()
    return {
        "checked": True,
        "total": len(report.checks),
        "counts": [(s.value, STATUS_LABELS[s], counts[s.value], STATUS_BADGES[s]) for s in Status],
        "problems": report.problems,
        "page": page,
        "rows": [
            {
                "check": c,
                "label": STATUS_LABELS[c.status],
                "badge": STATUS_BADGES[c.status],
                "diffs": diffs.get(c.binding.pk, []),
            }
            for c in page
        ],
        "diff_problem": diff_problem,
        "upgradable": counts[Status.OUTDATED],
        "forcible": counts[Status.HAND_EDITED] + counts[Status.UNKNOWN_ORIGIN],
    }


@require_POST
def fleet_upgrades_open(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    cluster = None
    if request.POST.get("cluster"):
        cluster = get_object_or_404(Cluster, pk=request.POST["cluster"])
    force = request.POST.get("force") == "on"
    cluster_id, actor_id = (cluster.pk if cluster else None), request.user.pk
    transaction.on_commit(
        lambda: enqueue_open_upgrades(cluster_id=cluster_id, force=force, actor_id=actor_id)
    )
    where = cluster.name if cluster else "every cluster"
    forced = ", overwriting files edited by hand" if force else ""
    messages.success(
        request,
        f"The upgrade pull requests of {where} are being opened{forced}; they show here "
        "once opened.",
    )
    return redirect("fleet-upgrades")


@require_GET
def fleet_upgrade(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    upgrade = get_object_or_404(Upgrade.objects.select_related("cluster", "requested_by"), pk=pk)
    entries = upgrade.entries.select_related("binding", "request").order_by("binding_id")
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    context = {
        "upgrade": upgrade,
        "page": page,
        "can_merge": upgrade.cluster.repo_backend == "local"
        and upgrade.state == "open"
        and upgrade.number is not None,
    }
    return render(request, "secrets_app/fleet_upgrade.html", context)


@require_POST
def fleet_upgrade_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """The demo's merge button (local git only)."""
    _admin_only(request)
    upgrade = get_object_or_404(Upgrade.objects.select_related("cluster"), pk=pk)
    try:
        merge_local_upgrade(upgrade, actor=request.user)
    except (IntegrationError, WorkflowError) as error:
        messages.error(request, f"Could not merge {upgrade}: {error}")
    else:
        messages.success(request, f"Merged {upgrade}.")
    return redirect(reverse("fleet-upgrade", args=[upgrade.pk]))
