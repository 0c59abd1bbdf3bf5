"""Pull-request tracking: the GitHub webhook, the live progress fragment,
and the demo's merge button for the local git backend."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from secrets_app.accounts.roles import is_admin, is_approver
from secrets_app.integrations.errors import IntegrationError
from secrets_app.models import (
    AccessRequest,
    PullRequest,
    PullRequestState,
    RequestKind,
    RequestState,
)
from secrets_app.requests import provisioning, workflow
from secrets_app.requests.kinds import kind_of

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 5 * 1024 * 1024


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """GitHub's X-Hub-Signature-256, compared in constant time."""
    if not secret or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


@csrf_exempt
@login_not_required
@require_POST
def github_webhook(request: HttpRequest) -> HttpResponse:
    body = request.body
    if len(body) > MAX_WEBHOOK_BODY:
        return JsonResponse({"error": "payload too large"}, status=413)
    header = request.headers.get("X-Hub-Signature-256", "")
    if not signature_valid(settings.GITHUB_WEBHOOK_SECRET, body, header):
        return JsonResponse({"error": "bad or missing signature"}, status=401)
    if request.headers.get("X-GitHub-Event") != "pull_request":
        return JsonResponse({"ignored": "not a pull_request event"})
    try:
        payload = json.loads(body)
        repo_name = payload["repository"]["full_name"]
        number = int(payload["pull_request"]["number"])
        merged = bool(payload["pull_request"].get("merged"))
        closed = payload["pull_request"].get("state") == "closed"
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "not a pull_request payload"}, status=400)
    pull = PullRequest.objects.filter(repo_name=repo_name, number=number).first()
    if pull is None:
        return JsonResponse({"ignored": "not a portal pull request"})
    state = (
        PullRequestState.MERGED
        if merged
        else PullRequestState.CLOSED
        if closed
        else PullRequestState.OPEN
    )
    workflow.pull_request_update_state(pull_id=pull.pk, state=state)
    return JsonResponse({"ok": True, "state": state})


def request_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress panel alone, for htmx polling from the request page."""
    access_request = get_object_or_404(AccessRequest.objects.select_related("cluster"), pk=pk)
    return render(request, "secrets_app/_progress.html", progress_context(request, access_request))


def progress_context(request: HttpRequest, access_request: AccessRequest) -> dict:
    # Infra first: it is the one to merge (and apply) first.
    pulls = sorted(access_request.pull_requests.all(), key=lambda p: p.repository != "infra")
    runs = list(access_request.task_runs.all()[:5])
    user = request.user
    return {
        "req": access_request,
        "pulls": pulls,
        "runs": runs,
        "last_error": next((r.error for r in runs if r.error), ""),
        "live": access_request.state in workflow.PROVISIONABLE,
        "can_merge": access_request.cluster.repo_backend == "local"
        and (is_approver(user) or is_admin(user)),
        "can_retry": access_request.state in workflow.RETRYABLE
        and (is_approver(user) or is_admin(user)),
        "branch": kind_of(access_request).branch(access_request),
        "binding": _binding_of(access_request),
    }


def _binding_of(access_request: AccessRequest):
    """The binding a grant made, once active, or the one a revocation removes."""
    if access_request.kind == RequestKind.REVOKE:
        return access_request.revokes
    return (
        getattr(access_request, "binding", None)
        if access_request.state == RequestState.ACTIVE
        else None
    )


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
