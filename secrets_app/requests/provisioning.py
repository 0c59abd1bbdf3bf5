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
from secrets_app.integrations.repos import MergeableRepoBackend, PullRequestRef, blob_ids
from secrets_app.models import AccessRequest, PullRequest, PullRequestState, RequestState
from secrets_app.rendering import SpecInvalid, render_binding
from secrets_app.requests import claiming, pr_text, workflow
from secrets_app.requests.kinds import kind_of
from secrets_app.requests.merge_order import check_merge_order
from secrets_app.requests.specs import spec_for_request

log = logging.getLogger(__name__)


def open_pull_requests(request_id: int) -> dict[str, PullRequestRef] | None:
    """Returns the two pull requests, or None when the request is not (or no
    longer) waiting for them. Raises RetryableError / PermanentError.

    A repository whose pull request merged is never touched again: a re-run
    there would open an empty pull request from the merged branch (or, on
    GitHub, be refused with 422 "No commits between"). A recorded pull request
    that looks open is read first, so one merged or closed while nobody was
    told (a lost webhook) is recorded as such instead of being reopened."""
    request = workflow.request_start_provisioning(request_id=request_id)
    if request is None:
        return None
    request = (
        AccessRequest.objects.select_related("cluster", "requester", "revokes")
        .prefetch_related("decisions__approver", "secrets")
        .get(pk=request.pk)
    )
    kind = kind_of(request)
    # A removal deletes the paths fixed when it was filed: nothing to render
    # (the grant it copies may break rules made since, and must still go).
    if kind.removes_files and request.deletes:
        rendered = {repo: {} for repo in REPOSITORIES}
    else:
        rendered = _render(request)

    # Under the request's lock: nothing it writes belongs to another binding
    # or request (the filing checked it; this settles any race since).
    claiming.confirm(request.pk)

    cluster = request.cluster
    backends = backends_for(cluster)
    branch, purpose = kind.branch(request), kind.purpose
    portal_url = settings.PORTAL_BASE_URL.rstrip("/") + request.get_absolute_url()
    changes = {repo: kind.change(request, repo, rendered[repo]) for repo in REPOSITORIES}
    recorded = {p.repository: p for p in request.pull_requests.filter(purpose=purpose)}
    refs: dict[str, PullRequestRef] = {}

    def body(repository: str) -> str:
        other = refs.get("deploy" if repository == "infra" else "infra")
        return pr_text.body(
            request,
            repository,
            kind.paths(changes[repository]),
            other=other,
            portal_url=portal_url,
            purpose=purpose,
        )

    for repository in REPOSITORIES:
        pull = recorded.get(repository)
        if pull is not None and pull.state == PullRequestState.OPEN:
            ref = backends[repository].get_pull_request(pull.number)
            if ref.state != PullRequestState.OPEN:
                pull = workflow.pull_request_update_state(
                    pull_id=pull.pk, state=ref.state, remote_updated_at=ref.updated_at
                )
        if pull is not None and pull.state == PullRequestState.MERGED:
            refs[repository] = _ref_of_record(pull)
            continue
        if pull is not None and pull.state == PullRequestState.CLOSED and request_moved_on(request):
            # Closed while this run was going: the request now needs a person.
            return None
        refs[repository] = backends[repository].ensure_pull_request(
            branch=branch,
            base=cluster.base_branch,
            **changes[repository],
            title=pr_text.title(request, repository, purpose=purpose),
            body=body(repository),
        )
        # The infra PR is opened first, so its body cannot name the deploy PR:
        # it is linked once the deploy PR exists, *before* that PR is recorded.
        # A run that dies in between leaves the deploy PR unrecorded, and the
        # next run, finding it, links it again.
        infra = refs.get("infra")
        if (
            repository == "deploy"
            and infra is not None
            and infra.state == PullRequestState.OPEN
            and (
                infra.created
                or refs["deploy"].created
                or getattr(recorded.get("deploy"), "number", None) != refs["deploy"].number
            )
        ):
            backends["infra"].update_pull_request_body(infra.number, body("infra"))
        workflow.pull_request_record(
            request_id=request.pk,
            repository=repository,
            repo_name=repository_name(cluster, repository),
            branch=branch,
            ref=refs[repository],
            purpose=purpose,
            paths=kind.paths(changes[repository]),
            file_hashes=blob_ids(changes[repository]["files"]),
        )
    workflow.pull_requests_opened(request_id=request.pk, purpose=purpose)
    return refs


def _render(request: AccessRequest) -> dict[str, dict[str, str]]:
    try:
        return render_binding(spec_for_request(request)).files
    except SpecInvalid as invalid:
        problems = "; ".join(str(p) for p in invalid.problems)
        raise PermanentError(
            f"the request no longer renders: {problems}", system="portal"
        ) from None


def request_moved_on(request: AccessRequest) -> bool:
    """Whether the request left provisioning while a run worked on it."""
    return (
        AccessRequest.objects.filter(pk=request.pk)
        .exclude(state=RequestState.PROVISIONING)
        .exists()
    )


def _ref_of_record(pull: PullRequest) -> PullRequestRef:
    return PullRequestRef(pull.number, pull.url, pull.state, pull.head_sha)


def refresh_pull_requests(request: AccessRequest) -> list[PullRequest]:
    """Ask the backend for the state of each pull request of a request that
    can still change (the poll; webhooks usually tell first): open ones, and
    closed ones, which a person may have reopened. Merged ones never change.
    Returns those that changed."""
    backends = backends_for(request.cluster)
    changed = []
    pulls = request.pull_requests.filter(purpose=kind_of(request).purpose).exclude(
        state=PullRequestState.MERGED
    )
    for pull in pulls:
        ref = backends[pull.repository].get_pull_request(pull.number)
        if ref.state != pull.state:
            changed.append(
                workflow.pull_request_update_state(
                    pull_id=pull.pk,
                    state=ref.state,
                    reopen=True,
                    remote_updated_at=ref.updated_at,
                )
            )
    return changed


def merge_local_pull_request(pull: PullRequest, *, actor) -> PullRequest:
    """The demo's merge button: merge in the local git repository, then
    record it as a webhook would. The wrong order is refused (``merge_order``):
    on GitHub people merge, here the portal does, so it keeps the rule."""
    backend = backends_for(pull.request.cluster)[pull.repository]
    if not isinstance(backend, MergeableRepoBackend):
        raise workflow.WorkflowError(
            "Pull requests on GitHub are merged on GitHub.", code="forbidden"
        )
    check_merge_order(pull)
    ref = backend.merge_pull_request(pull.number)
    return workflow.pull_request_update_state(pull_id=pull.pk, state=ref.state, actor=actor)
