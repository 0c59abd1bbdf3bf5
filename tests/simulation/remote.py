"""The Git hosts as the simulation sees them: the loopback GitHub and the
local git repositories, what people do there (merge, close, reopen, delete
a merged branch), the webhooks GitHub would send about it, and a ledger of
what really happened, against which the portal's audit log is checked."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.test import Client
from django.urls import reverse

from fakes.github_api import FakeGitHub
from secrets_app.integrations.backends import REPOSITORIES, backends_for, repository_name
from secrets_app.integrations.errors import IntegrationError
from secrets_app.integrations.localgit import LocalGitBackend, init_demo_repository
from secrets_app.models import AccessRequest, PullRequest, PullRequestState
from secrets_app.rendering import render_binding
from secrets_app.requests import pr_text, provisioning, workflow
from secrets_app.requests.kinds import kind_of
from secrets_app.requests.specs import spec_for_request
from secrets_app.requests.states import WorkflowError
from tests.support.github import DEPLOY, INFRA, signed


@dataclass(frozen=True, order=True)
class RemotePull:
    """One pull request as its host has it now."""

    host: str  # "github" or "local"
    repository: str  # "infra" or "deploy"
    number: int
    branch: str
    state: str  # open, closed or merged
    repo_name: str = field(compare=False)
    url: str = field(compare=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.repo_name, self.number)

    def __repr__(self) -> str:
        return f"<{self.host} {self.repository}#{self.number} {self.branch} {self.state}>"


class GitHubHost:
    name = "github"

    def __init__(self, fake: FakeGitHub):
        self.fake = fake
        self.repos = {"infra": INFRA, "deploy": DEPLOY}

    def reset(self) -> None:
        """Fresh repositories, no faults, an empty request log."""
        for full in self.repos.values():
            owner, name = full.split("/")
            self.fake.create_repo(owner, name, base="main", files={"README.md": f"# {name}\n"})
        self.fake.clear_faults()
        self.fake.clear_log()

    def pulls(self) -> list[RemotePull]:
        found = []
        for repository, full in self.repos.items():
            for p in self.fake.pulls_of(*full.split("/")):
                state = "merged" if p["merged"] else p["state"]
                found.append(
                    RemotePull(
                        "github",
                        repository,
                        p["number"],
                        p["head"]["ref"],
                        state,
                        full,
                        p["html_url"],
                    )
                )
        return found

    def _owner_name(self, pull: RemotePull) -> tuple[str, str]:
        owner, name = pull.repo_name.split("/")
        return owner, name

    def merge(self, pull: RemotePull, **_: Any) -> bool:
        self.fake.merge_pull(*self._owner_name(pull), pull.number)
        return True

    def close(self, pull: RemotePull) -> None:
        self.fake.close_pull(*self._owner_name(pull), pull.number)

    def reopen(self, pull: RemotePull) -> None:
        self.fake.reopen_pull(*self._owner_name(pull), pull.number)

    def delete_branch(self, pull: RemotePull) -> None:
        self.fake.delete_branch(*self._owner_name(pull), pull.branch)

    def payload(self, pull: RemotePull, action: str) -> dict[str, Any]:
        return self.fake.webhook_payload(*self._owner_name(pull), pull.number, action)

    def errors_logged(self) -> int:
        return sum(1 for entry in self.fake.log if entry.status >= 400)


class LocalHost:
    """The local git backend's repositories (``LOCAL_REPOS_DIR``). No webhooks:
    the demo's merge button records a merge itself, the poll finds the rest."""

    name = "local"

    def __init__(self, root: Path):
        self.root = root
        self.paths = {repo: root / f"{repo}.git" for repo in REPOSITORIES}
        self._pristine = root.with_name(root.name + "-pristine")
        for repository in REPOSITORIES:
            path = init_demo_repository(self._pristine / f"{repository}.git", base="main")
            shutil.rmtree(path / "hooks")  # git's samples: nothing to copy each time

    def reset(self) -> None:
        """Fresh repositories: a copy of two made once (cheaper than git init)."""
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(self._pristine, self.root)

    def backend(self, repository: str) -> LocalGitBackend:
        return LocalGitBackend(self.paths[repository])

    def pulls(self) -> list[RemotePull]:
        found = []
        for repository, path in self.paths.items():
            # The backend's own store of its pull requests (it has no listing call).
            store = path / "portal" / "pulls.json"
            records = json.loads(store.read_text())["pulls"] if store.exists() else {}
            url = path.resolve().as_uri()
            for record in records.values():
                found.append(
                    RemotePull(
                        "local",
                        repository,
                        record["number"],
                        record["head"],
                        record["state"],
                        str(path),
                        f"{url}#pull/{record['number']}",
                    )
                )
        return found

    def merge(self, pull: RemotePull, *, button: bool = False, actor: Any = None) -> bool:
        """Merge ``pull``; False when the portal's button refused (the
        other pull request of its request must merge first)."""
        record = PullRequest.objects.filter(repo_name=pull.repo_name, number=pull.number).first()
        if button and record is not None:
            # The demo's "Merge (local demo)" button: merges and records at once.
            try:
                provisioning.merge_local_pull_request(record, actor=actor)
            except WorkflowError as refused:
                if refused.code != "wrong_order":
                    raise
                return False
        else:
            # Merged outside the portal: only the poll will notice.
            self.backend(pull.repository).merge_pull_request(pull.number)
        return True

    def close(self, pull: RemotePull) -> None:
        self.backend(pull.repository).close_pull_request(pull.number)

    def delete_branch(self, pull: RemotePull) -> None:
        path = self.paths[pull.repository]
        subprocess.run(
            ["git", "-C", str(path), "update-ref", "-d", f"refs/heads/{pull.branch}"],
            check=True,
            capture_output=True,
        )


@dataclass
class Ledger:
    """What really happened on the hosts, as the simulation did it."""

    closes: Counter = field(default_factory=Counter)
    reopens: Counter = field(default_factory=Counter)
    merged_at: dict = field(default_factory=dict)
    seen: set = field(default_factory=set)


@dataclass
class Delivery:
    delivery_id: str
    body: bytes
    what: str

    def __repr__(self) -> str:
        return f"<{self.delivery_id} {self.what}>"


class Webhooks:
    """GitHub's ``pull_request`` webhook: each change on the loopback GitHub
    makes a delivery; the simulation decides when (and whether) it arrives."""

    def __init__(self, host: GitHubHost):
        self.host = host
        self.pending: list[Delivery] = []
        self.delivered: list[Delivery] = []
        self._ids = itertools.count(1)

    def reset(self) -> None:
        self.pending.clear()
        self.delivered.clear()
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return f"delivery-{next(self._ids)}"

    def emit(self, pull: RemotePull, action: str) -> None:
        payload = self.host.payload(pull, action)
        merged = " merged" if payload["pull_request"]["merged"] else ""
        what = f"{action}{merged} {pull.repository}#{pull.number}"
        self.pending.append(Delivery(self.new_id(), json.dumps(payload).encode(), what))

    def post(self, delivery: Delivery, *, delivery_id: str | None = None) -> dict[str, Any]:
        response = Client().post(
            reverse("github-webhook"),
            delivery.body,
            content_type="application/json",
            HTTP_X_GITHUB_EVENT="pull_request",
            HTTP_X_GITHUB_DELIVERY=delivery_id or delivery.delivery_id,
            HTTP_X_HUB_SIGNATURE_256=signed(delivery.body),
        )
        assert response.status_code == 200, (delivery, response.status_code, response.content)
        return response.json()

    def deliver(self, index: int) -> dict[str, Any]:
        delivery = self.pending.pop(index)
        self.delivered.append(delivery)
        return self.post(delivery)


def die_mid_run(request_id: int, stage: int) -> str:
    """What an ``open_pull_requests`` run gets done before its worker is
    killed: the first ``stage`` of its steps (1: the infra pull request
    opened on the host, 2: and recorded, 3: the deploy one opened, 4: and
    recorded), with the backends' and services' own calls, in the task's
    order. The run never reaches ``pull_requests_opened``. Returns how far
    it got."""
    request = workflow.request_start_provisioning(request_id=request_id)
    if request is None:
        return "nothing to do"
    request = (
        AccessRequest.objects.select_related("cluster", "requester", "revokes")
        .prefetch_related("decisions__approver", "secrets")
        .get(pk=request_id)
    )
    kind, cluster = kind_of(request), request.cluster
    rendered = render_binding(spec_for_request(request))
    changes = {repo: kind.change(request, repo, rendered.files[repo]) for repo in REPOSITORIES}
    recorded = {p.repository: p for p in request.pull_requests.filter(purpose=kind.purpose)}
    backends = backends_for(cluster)
    steps = [(repo, what) for repo in REPOSITORIES for what in ("open", "record")][:stage]
    refs = {}
    done = "started"
    try:
        for repository, what in steps:
            pull = recorded.get(repository)
            if pull is not None and pull.state == PullRequestState.MERGED:
                continue  # as the task: a merged pull request is never touched
            if what == "open":
                refs[repository] = backends[repository].ensure_pull_request(
                    branch=kind.branch(request),
                    base=cluster.base_branch,
                    **changes[repository],
                    title=pr_text.title(request, repository, purpose=kind.purpose),
                    body="Opened by a run whose worker was killed.",
                )
            else:
                workflow.pull_request_record(
                    request_id=request_id,
                    repository=repository,
                    repo_name=repository_name(cluster, repository),
                    branch=kind.branch(request),
                    ref=refs[repository],
                    purpose=kind.purpose,
                    paths=kind.paths(changes[repository]),
                )
            done = f"{repository} {what}ed"
    except IntegrationError as error:
        # The host failed the call, and the worker died before handling it.
        return f"{done}, then {type(error).__name__}"
    return done
