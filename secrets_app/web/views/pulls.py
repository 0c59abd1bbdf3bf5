"""Pull-request tracking: the GitHub webhook, the live progress fragment,
and, for the local git backend, each pull request's page and the demo's
merge button."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from secrets_app.accounts.roles import is_admin, is_approver
from secrets_app.integrations.errors import IntegrationError
from secrets_app.models import (
    AccessRequest,
    PullRequest,
    PullRequestState,
    RequestKind,
    RequestState,
    TaskRun,
)
from secrets_app.requests import merge_order, provisioning, webhooks, workflow
from secrets_app.requests.kinds import kind_of
from secrets_app.web.pull_diff import read_pull

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 5 * 1024 * 1024


@csrf_exempt
@login_not_required
@require_POST
def github_webhook(request: HttpRequest) -> HttpResponse:
    body = request.body
    if len(body) > MAX_WEBHOOK_BODY:
        return JsonResponse({"error": "payload too large"}, status=413)
    header = request.headers.get("X-Hub-Signature-256", "")
    if not webhooks.signature_valid(settings.GITHUB_WEBHOOK_SECRET, body, header):
        return JsonResponse({"error": "bad or missing signature"}, status=401)
    event = request.headers.get("X-GitHub-Event", "")
    if event != "pull_request":
        return JsonResponse({"ignored": "not a pull_request event"})
    try:
        change = webhooks.webhook_change(json.loads(body))
    except (ValueError, KeyError, TypeError, AttributeError):
        return JsonResponse({"error": "not a pull_request payload"}, status=400)
    delivery = request.headers.get("X-GitHub-Delivery", "")
    if len(delivery) > 64 or not delivery.isascii():
        return JsonResponse({"error": "bad X-GitHub-Delivery"}, status=400)
    return JsonResponse(webhooks.apply_webhook(change, delivery=delivery, event=event))


def request_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress panel alone, for htmx polling from the request page, with
    the state badge at the top of the page swapped out of band."""
    access_request = get_object_or_404(AccessRequest.objects.select_related("cluster"), pk=pk)
    return render(
        request, "secrets_app/_progress_poll.html", progress_context(request, access_request)
    )


def pull_link(pull: PullRequest, *, local: bool) -> str:
    """Where a pull request's link goes: the portal's page for local git,
    GitHub's page otherwise."""
    return reverse("pull-request-detail", args=[pull.pk]) if local else pull.url


def progress_context(request: HttpRequest, access_request: AccessRequest) -> dict:
    pulls = merge_order.in_merge_order(access_request, access_request.pull_requests.all())
    local = access_request.cluster.repo_backend == "local"
    for pull in pulls:
        # For the template: its link, and why it cannot merge yet.
        pull.link = pull_link(pull, local=local)
        pull.blocked = merge_order.blocked_reason(pull, pulls)
    runs = list(access_request.task_runs.all()[:5])
    user = request.user
    return {
        "req": access_request,
        "pulls": pulls,
        # Said while the one to merge first is open (and the other waits).
        "merge_order": merge_order.order_reason(access_request)
        if len(pulls) > 1 and pulls[0].state == PullRequestState.OPEN
        else "",
        "runs": runs,
        "last_error": next((r.error for r in runs if r.error), ""),
        "live": access_request.state in workflow.PROVISIONABLE,
        "can_merge": access_request.cluster.repo_backend == "local"
        and (is_approver(user) or is_admin(user)),
        "can_retry": access_request.state in workflow.RETRYABLE
        and (is_approver(user) or is_admin(user)),
        "branch": kind_of(access_request).branch(access_request),
        "binding": _binding_of(access_request),
        "attention": _attention(access_request),
        # The task gave up on an outage; the requeue job runs it again.
        "retry_later": access_request.state == RequestState.PROVISIONING
        and access_request.prs_opened_at is None
        and bool(runs)
        and (runs[0].kind, runs[0].outcome) == ("open_prs", TaskRun.Outcome.FAILED),
        "stuck_minutes": settings.PORTAL_STUCK_MINUTES,
    }


def _attention(access_request: AccessRequest) -> str:
    """Why the request needs a person, in the words recorded when it did."""
    if access_request.state != RequestState.NEEDS_ATTENTION:
        return ""
    event = (
        access_request.audit_events.filter(action="request.needs_attention")
        .order_by("-created_at", "-id")
        .first()
    )
    return event.message if event else ""


def _binding_of(access_request: AccessRequest):
    """The binding a grant made, once active, the one a revocation removes,
    or the one a change rewrites."""
    if access_request.kind == RequestKind.REVOKE:
        return access_request.revokes
    if access_request.kind == RequestKind.CHANGE:
        return access_request.changes
    return (
        getattr(access_request, "binding", None)
        if access_request.state == RequestState.ACTIVE
        else None
    )


@require_GET
def pull_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A local pull request as a person reviews it: title, body and the diff
    of every file, with the merge button. GitHub's are read on GitHub."""
    pull = get_object_or_404(PullRequest.objects.select_related("request__cluster"), pk=pk)
    access_request = pull.request
    if access_request.cluster.repo_backend != "local":
        if not pull.url:
            raise Http404("This pull request has no address.")
        return redirect(pull.url)
    siblings = merge_order.in_merge_order(access_request, access_request.pull_requests.all())
    for sibling in siblings:
        sibling.link = pull_link(sibling, local=True)
    page = read_pull(pull)
    user = request.user
    context = {
        "pull": pull,
        "req": access_request,
        "siblings": siblings,
        "page": page,
        "blocked": merge_order.blocked_reason(pull, siblings),
        "merge_order": merge_order.order_reason(access_request) if len(siblings) > 1 else "",
        "can_merge": pull.state == PullRequestState.OPEN and (is_approver(user) or is_admin(user)),
    }
    return render(request, "secrets_app/pull_request.html", context)


@require_POST
def pull_request_merge(request: HttpRequest, pk: int) -> HttpResponse:
    pull = get_object_or_404(PullRequest.objects.select_related("request__cluster"), pk=pk)
    if not (is_approver(request.user) or is_admin(request.user)):
        messages.error(request, "Only the platform team can merge here.")
        return redirect(pull.request)
    try:
        provisioning.merge_local_pull_request(pull, actor=request.user)
    except (IntegrationError, workflow.WorkflowError) as error:
        messages.error(request, f"Could not merge {pull}: {error}")
    else:
        messages.success(request, f"Merged {pull}.")
    return redirect(pull.request)


@require_POST
def request_retry(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        workflow.request_retry(request_id=pk, actor=request.user)
    except workflow.WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The pull requests will be opened again.")
    return redirect("request-detail", pk=pk)
