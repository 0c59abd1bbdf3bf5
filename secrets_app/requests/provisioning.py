"""Open the pull requests of an approved request: render the files, make
sure each repository has the branch ``portal/request-<id>`` holding exactly
them and one open pull request, and record both. Safe to run any number of
times: the backends find their branch and pull request instead of making new
ones."""

from __future__ import annotations

import logging

from django.conf import settings

from secrets_app.integrations.backends import REPOSITORIES, backends_for, repository_name
from secrets_app.integrations.errors import PermanentError
from secrets_app.integrations.repos import MergeableRepoBackend, PullRequestRef
from secrets_app.models import AccessRequest, PullRequest, PullRequestState
from secrets_app.rendering import SpecInvalid, render_binding
from secrets_app.requests import pr_text, workflow
from secrets_app.requests.kinds import kind_of
from secrets_app.requests.specs import spec_for_request

log = logging.getLogger(__name__)


def open_pull_requests(request_id: int) -> dict[str, PullRequestRef] | None:
    """Returns the two pull requests, or None when the request is not (or no
    longer) waiting for them. Raises RetryableError / PermanentError."""
    request = workflow.request_start_provisioning(request_id=request_id)
    if request is None:
        return None
    request = (
        AccessRequest.objects.select_related("cluster", "requester")
        .prefetch_related("decisions__approver", "secrets")
        .get(pk=request.pk)
    )
    try:
        rendered = render_binding(spec_for_request(request))
    except SpecInvalid as invalid:
        problems = "; ".join(str(p) for p in invalid.problems)
        raise PermanentError(
            f"the request no longer renders: {problems}", system="portal"
        ) from None

    cluster = request.cluster
    backends = backends_for(cluster)
    kind = kind_of(request)
    branch, purpose = kind.branch(request), kind.purpose
    portal_url = settings.PORTAL_BASE_URL.rstrip("/") + request.get_absolute_url()
    # The infra PR is opened first, so its body cannot name the deploy PR: it
    # is linked once the deploy PR exists, *before* that PR is recorded. A run
    # that dies in between leaves the deploy PR unrecorded, and the next run,
    # finding it, links it again (a run that finds both recorded costs nothing).
    recorded = set(
        request.pull_requests.filter(purpose=purpose).values_list("repository", "number")
    )
    refs: dict[str, PullRequestRef] = {}
    for repository in REPOSITORIES:
        files = rendered.files[repository]
        refs[repository] = backends[repository].ensure_pull_request(
            branch=branch,
            base=cluster.base_branch,
            **kind.change(files),
            title=pr_text.title(request, repository, purpose=purpose),
            body=pr_text.body(
                request,
                repository,
                list(files),
                other=refs.get("infra"),
                portal_url=portal_url,
                purpose=purpose,
            ),
        )
        if repository == "deploy" and (
            refs["infra"].created
            or refs["deploy"].created
            or ("deploy", refs["deploy"].number) not in recorded
        ):
            backends["infra"].update_pull_request_body(
                refs["infra"].number,
                pr_text.body(
                    request,
                    "infra",
                    list(rendered.files["infra"]),
                    other=refs["deploy"],
                    portal_url=portal_url,
                    purpose=purpose,
                ),
            )
        workflow.pull_request_record(
            request_id=request.pk,
            repository=repository,
            repo_name=repository_name(cluster, repository),
            branch=branch,
            ref=refs[repository],
            purpose=purpose,
        )
    return refs


def refresh_pull_requests(request: AccessRequest) -> list[PullRequest]:
    """Ask the backend for the state of each open pull request of a request
    (the poll; webhooks usually tell first). Returns those that changed."""
    backends = backends_for(request.cluster)
    changed = []
    for pull in request.pull_requests.filter(state=PullRequestState.OPEN):
        ref = backends[pull.repository].get_pull_request(pull.number)
        if ref.state != pull.state:
            changed.append(workflow.pull_request_update_state(pull_id=pull.pk, state=ref.state))
    return changed


def merge_local_pull_request(pull: PullRequest, *, actor) -> PullRequest:
    """The demo's merge button: merge in the local git repository, then
    record it as a webhook would."""
    backend = backends_for(pull.request.cluster)[pull.repository]
    if not isinstance(backend, MergeableRepoBackend):
        raise workflow.WorkflowError(
            "Pull requests on GitHub are merged on GitHub.", code="forbidden"
        )
    ref = backend.merge_pull_request(pull.number)
    return workflow.pull_request_update_state(pull_id=pull.pk, state=ref.state, actor=actor)
