"""GitHub (and GitHub Enterprise) repository backend, on PyGithub.

Request budget per repository (see ``repos`` for the content trailer):

- opening a pull request: 5 requests whatever the number of files:
  1 GraphQL read (base ref, head ref, the head's open PR), create ONE tree
  with every file inline (deletions as ``sha: null``), create the commit,
  create the branch ref, create the PR;
- re-run with branch and PR up to date: that 1 GraphQL read, nothing else;
- re-run after the PR merged (even with its branch deleted): that 1 read,
  which also finds the merged PR, and nothing is written;
- files changed while the PR is open: read, tree, commit, force-move the ref;
- reading a branch's definitions (``read_text_files``): its tarball, one API
  request and the redirect it answers with, whatever the repository's size
  (why not the trees API: ``archives``);
- listing a branch's files with their blob ids (``read_tree``, what fleet
  upgrades compare): one request, the recursive tree.

Why GraphQL for the read: with REST, knowing whether the head branch exists
costs one request and the base's commit and tree another, so opening would
cost 6. One GraphQL query answers both, plus "is there an open PR for this
head", which REST would make a third read.

PyGithub's throttling is off and its urllib3 retry is disabled (``retry=None``):
nothing sleeps inside a request. Failures come out as ``RetryableError`` or
``PermanentError`` and the caller's ``RetryPolicy`` decides when to re-run the
whole (idempotent) operation.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from github import Auth, Consts, Github, GithubException, InputGitTreeElement
from github.GitCommit import GitCommit
from github.GitRef import GitRef
from github.GitTree import GitTree
from github.Repository import Repository

from .archives import text_files_of_tarball
from .errors import IntegrationError, PermanentError, RetryableError
from .repos import (
    DEFINITION_SUFFIXES,
    MAX_TEXT_FILE_BYTES,
    BranchChange,
    PullRequestRef,
    RepoBackend,
    blob_ids,
)

log = logging.getLogger(__name__)

SYSTEM = "github"
#: Seconds to wait on a secondary rate limit that names no Retry-After.
SECONDARY_RATE_LIMIT_WAIT = 60.0
DEFAULT_BASE_URL = Consts.DEFAULT_BASE_URL

BRANCH_STATE_QUERY = """
query PortalBranchState(
  $owner: String!, $name: String!, $base: String!, $head: String!, $headName: String!
) {
  repository(owner: $owner, name: $name) {
    base: ref(qualifiedName: $base) { target { oid ... on Commit { tree { oid } } } }
    head: ref(qualifiedName: $head) {
      target {
        oid
        ... on Commit { message tree { oid } parents(first: 2) { totalCount nodes { oid } } }
      }
      associatedPullRequests(states: [OPEN], first: 1) { nodes { number url state headRefOid } }
    }
    merged: pullRequests(headRefName: $headName, states: [MERGED], first: 1) {
      nodes { number url headRefOid }
    }
  }
}
"""

# Credential shapes GitHub issues, scrubbed from any message as a last line of
# defence (the configured secrets themselves are scrubbed by value).
_TOKEN_PATTERNS = re.compile(
    r"(gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,}|(?i:bearer|token)\s+[A-Za-z0-9._\-]{8,})"
)


@dataclass(frozen=True)
class GitHubAuth:
    """Either a token, or a GitHub App installation. Secrets stay out of repr."""

    token: str | None = field(default=None, repr=False)
    app_id: int | str | None = None
    private_key: str | None = field(default=None, repr=False)
    installation_id: int | None = None

    def __post_init__(self) -> None:
        app = (self.app_id, self.private_key, self.installation_id)
        if self.token and any(v is not None for v in app):
            raise PermanentError(
                "configure a GitHub token or a GitHub App, not both", system=SYSTEM
            )
        if not self.token and any(v is None for v in app):
            raise PermanentError(
                "GitHub auth needs a token, or app id + private key + installation id",
                system=SYSTEM,
            )

    def for_pygithub(self) -> Auth.Auth:
        if self.token:
            return Auth.Token(self.token)
        assert self.app_id is not None and self.private_key and self.installation_id is not None
        return Auth.AppInstallationAuth(
            Auth.AppAuth(self.app_id, self.private_key), int(self.installation_id)
        )

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.token, self.private_key) if s)


def build_client(
    auth: GitHubAuth, *, base_url: str = DEFAULT_BASE_URL, timeout: int = 15
) -> Github:
    """A PyGithub client that never sleeps on its own: no throttling, no
    urllib3 retries (GithubRetry would wait 60 s on a secondary rate limit)."""
    return Github(
        auth=auth.for_pygithub(),
        base_url=base_url.rstrip("/"),
        timeout=timeout,
        user_agent="secrets-access-portal",
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )


@dataclass(frozen=True)
class _Head:
    oid: str
    message: str
    parent_count: int
    open_pr: dict[str, Any] | None


class GitHubBackend(RepoBackend):
    """Pull requests in one GitHub repository ("owner/name")."""

    def __init__(
        self,
        repository: str,
        auth: GitHubAuth,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: int = 15,
        client: Github | None = None,
    ):
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise PermanentError(
                f"repository must be 'owner/name', got {repository!r}", system=SYSTEM
            )
        self.owner, self.name = owner, name
        self._secrets = auth.secrets()
        self._timeout = timeout
        # One client may serve both repositories (shared connection pool and
        # App installation token); build one if the caller did not.
        self._gh = client or build_client(auth, base_url=base_url, timeout=timeout)
        self._repo: Repository = self._gh.get_repo(repository)  # lazy: no request

    def __repr__(self) -> str:
        return f"GitHubBackend({self.owner}/{self.name})"

    # --- the interface -------------------------------------------------------

    def _ensure(self, change: BranchChange, *, title: str, body: str) -> PullRequestRef:
        base_oid, base_tree, head, merged = self._branch_state(
            base=change.base, branch=change.branch
        )
        if merged is not None:
            # The branch's work is done: writing it again would open an empty
            # pull request (or be refused, 422 "No commits between").
            return PullRequestRef(
                int(merged["number"]), merged["url"], "merged", merged.get("headRefOid") or ""
            )

        if head is not None and change.is_held_by(head.message, head.parent_count):
            head_sha = head.oid
        else:
            head_sha = self._write_branch(
                change, exists=head is not None, base_oid=base_oid, base_tree=base_tree
            )
            log.info(
                "github %s/%s: branch %s now at %s", self.owner, self.name, change.branch, head_sha
            )

        if head is not None and head.open_pr is not None:
            pr = head.open_pr
            return PullRequestRef(int(pr["number"]), pr["url"], "open", head_sha, created=False)
        return self._open_pull(branch=change.branch, base=change.base, title=title, body=body)

    def update_pull_request_body(self, number: int, body: str) -> None:
        with self._translated(f"update pull request #{number}"):
            # get_pull is lazy: this is one PATCH.
            self._repo.get_pull(number).edit(body=body)

    def get_pull_request(self, number: int) -> PullRequestRef:
        with self._translated(f"read pull request #{number}"):
            # The lazy object completes on raw_data: one GET.
            return _ref_of(self._repo.get_pull(number).raw_data, created=False)

    def read_tree(self, ref: str) -> dict[str, str]:
        """One request: the branch's tree, recursive (``GET
        /git/trees/<ref>?recursive=1``), every file's blob id without its
        content. Past GitHub's limits for one listing (``truncated``), the
        archive is read instead and the ids computed here: every file the
        portal writes is a definition file."""
        with self._translated(f"read tree {ref}"):
            data = self._repo.get_git_tree(ref, recursive=True).raw_data
        if data.get("truncated"):
            return blob_ids(self.read_text_files(ref))
        return {
            str(entry["path"]): str(entry["sha"])
            for entry in data.get("tree") or []
            if entry.get("type") == "blob"
        }

    def read_text_files(
        self,
        ref: str,
        *,
        suffixes: tuple[str, ...] = DEFINITION_SUFFIXES,
        max_bytes: int = MAX_TEXT_FILE_BYTES,
    ) -> dict[str, str]:
        what = f"GitHub {self.owner}/{self.name}: read {ref}"
        with self._translated(f"read {ref}"):
            try:
                # One API request, answered with a redirect (not followed here).
                location = self._repo.get_archive_link("tarball", ref)
            except KeyError:
                raise PermanentError(f"{what}: no archive URL", system=SYSTEM) from None
        if urlsplit(location).scheme not in ("https", "http"):
            raise PermanentError(f"{what}: odd archive URL", system=SYSTEM)
        try:
            # The codeload URL carries its own short-lived token: no
            # Authorization header goes to it, wherever it points.
            with requests.get(location, stream=True, timeout=self._timeout) as answer:
                if answer.status_code >= 400:
                    error = RetryableError if answer.status_code >= 500 else PermanentError
                    raise error(f"{what}: archive {answer.status_code}", system=SYSTEM)
                chunks = answer.iter_content(chunk_size=64 * 1024)
                return text_files_of_tarball(chunks, suffixes=suffixes, max_bytes=max_bytes)
        except requests.exceptions.RequestException as exc:
            # Only the type: the exception's text may quote the URL and its token.
            raise RetryableError(f"{what}: {type(exc).__name__}", system=SYSTEM) from None

    # --- steps ---------------------------------------------------------------

    def _branch_state(
        self, *, base: str, branch: str
    ) -> tuple[str, str, _Head | None, dict[str, Any] | None]:
        variables = {
            "owner": self.owner,
            "name": self.name,
            "base": f"refs/heads/{base}",
            "head": f"refs/heads/{branch}",
            "headName": branch,
        }
        with self._translated("read branch state"):
            _, data = self._gh.requester.graphql_query(BRANCH_STATE_QUERY, variables)
        repo = (data.get("data") or {}).get("repository")
        if repo is None:
            raise PermanentError(
                f"repository {self.owner}/{self.name} not found", system=SYSTEM, status=404
            )
        if not repo.get("base"):
            raise PermanentError(f"base branch {base!r} not found", system=SYSTEM, status=404)
        target = repo["base"]["target"]
        head = None
        if repo.get("head"):
            h = repo["head"]
            prs = (h.get("associatedPullRequests") or {}).get("nodes") or []
            head = _Head(
                oid=h["target"]["oid"],
                message=h["target"].get("message") or "",
                parent_count=int((h["target"].get("parents") or {}).get("totalCount", 0)),
                open_pr=prs[0] if prs else None,
            )
        merged = ((repo.get("merged") or {}).get("nodes") or [None])[0]
        return target["oid"], target["tree"]["oid"], head, merged

    def _write_branch(
        self, change: BranchChange, *, exists: bool, base_oid: str, base_tree: str
    ) -> str:
        elements = [
            InputGitTreeElement(p, "100644", "blob", content=c)
            for p, c in sorted(change.files.items())
        ]
        elements += [InputGitTreeElement(p, "100644", "blob", sha=None) for p in change.deleted]
        requester = self._repo.requester
        url = self._repo.url
        with self._translated("create tree"):
            tree = self._repo.create_git_tree(
                elements,
                base_tree=GitTree(
                    requester, attributes={"sha": base_tree}, url=f"{url}/git/trees/{base_tree}"
                ),
            )
        with self._translated("create commit"):
            parent = GitCommit(
                requester, attributes={"sha": base_oid}, url=f"{url}/git/commits/{base_oid}"
            )
            commit = self._repo.create_git_commit(change.message, tree, [parent])
        branch = change.branch
        ref = f"refs/heads/{branch}"
        if not exists:
            try:
                with self._translated("create branch"):
                    self._repo.create_git_ref(ref, commit.sha)
                return commit.sha
            except PermanentError as exc:
                # Someone (a concurrent run) created it since our read.
                if "already exists" not in str(exc):
                    raise
        with self._translated("move branch"):
            # A rebuilt branch is one new commit on base: not a fast-forward
            # of the old head, hence force.
            GitRef(
                requester, attributes={"ref": ref}, url=f"{url}/git/refs/heads/{quote(branch)}"
            ).edit(commit.sha, force=True)
        return commit.sha

    def _open_pull(self, *, branch: str, base: str, title: str, body: str) -> PullRequestRef:
        try:
            with self._translated("create pull request"):
                pr = self._repo.create_pull(base=base, head=branch, title=title, body=body)
            return _ref_of(pr.raw_data, created=True)
        except PermanentError as exc:
            if "already exists" not in str(exc):
                raise
        # A concurrent run opened it between our read and our create.
        with self._translated("find pull request"):
            for pr in self._repo.get_pulls(state="open", head=f"{self.owner}:{branch}"):
                return _ref_of(pr.raw_data, created=False)
        raise RetryableError(f"pull request for {branch!r} vanished", system=SYSTEM)

    # --- errors --------------------------------------------------------------

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        try:
            yield
        except IntegrationError:
            raise
        except GithubException as exc:
            raise self._from_github(what, exc) from None
        except requests.exceptions.RequestException as exc:
            # Timeouts and connection errors: the chain is dropped (``from
            # None``) so nothing of the request, headers included, travels on.
            message = f"GitHub {self.owner}/{self.name}: {what}: {type(exc).__name__}: {exc}"
            raise RetryableError(self._scrub(message), system=SYSTEM) from None

    def _from_github(self, what: str, exc: GithubException) -> IntegrationError:
        status = exc.status
        data = exc.data if isinstance(exc.data, dict) else {}
        remote = str(data.get("message") or exc.message or "")
        details = [e.get("message") for e in data.get("errors") or [] if isinstance(e, dict)]
        if any(details):
            remote = f"{remote} ({'; '.join(d for d in details if d)})"
        message = self._scrub(f"GitHub {self.owner}/{self.name}: {what}: {status} {remote}".strip())
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        retry_after = _retry_after(headers)
        graphql = _graphql_errors(data)
        if graphql:
            # PyGithub raises 400 for any GraphQL error body; GitHub answers
            # its rate limits and timeouts that way, with HTTP 200.
            message = self._scrub(
                f"GitHub {self.owner}/{self.name}: {what}: GraphQL: {'; '.join(graphql)}"
            )
            if _graphql_transient(data):
                return RetryableError(
                    message,
                    system=SYSTEM,
                    status=status,
                    retry_after=SECONDARY_RATE_LIMIT_WAIT if retry_after is None else retry_after,
                )
            return PermanentError(message, system=SYSTEM, status=status)
        rate_limited = status == 429 or (
            status == 403
            and (
                retry_after is not None
                or "rate limit" in remote.lower()
                or headers.get("x-ratelimit-remaining") == "0"
            )
        )
        if rate_limited and retry_after is None and "secondary rate limit" in remote.lower():
            # GitHub's guidance: without Retry-After, wait at least a minute
            # before retrying a secondary rate limit; sooner prolongs it.
            retry_after = SECONDARY_RATE_LIMIT_WAIT
        if rate_limited or (status is not None and status >= 500):
            return RetryableError(message, system=SYSTEM, status=status, retry_after=retry_after)
        return PermanentError(message, system=SYSTEM, status=status)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[secret]")
        return _TOKEN_PATTERNS.sub("[secret]", text)


#: GraphQL error types (and words) that say "later", not "never".
_GRAPHQL_TRANSIENT_TYPES = {"RATE_LIMITED", "SERVICE_UNAVAILABLE", "TIMEOUT"}
_GRAPHQL_TRANSIENT_WORDS = ("rate limit", "timeout", "timed out", "something went wrong")


def _graphql_errors(data: Mapping[str, Any]) -> list[str]:
    errors = data.get("errors")
    if not isinstance(errors, list) or ("data" not in data and "message" in data):
        return []
    return [str(e.get("message") or e.get("type") or e) for e in errors if isinstance(e, dict)]


def _graphql_transient(data: Mapping[str, Any]) -> bool:
    for error in data.get("errors") or []:
        if not isinstance(error, dict):
            continue
        if str(error.get("type") or "").upper() in _GRAPHQL_TRANSIENT_TYPES:
            return True
        if any(w in str(error.get("message") or "").lower() for w in _GRAPHQL_TRANSIENT_WORDS):
            return True
    return False


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date), else from an
    exhausted primary rate limit's ``X-RateLimit-Reset``."""
    value = headers.get("retry-after")
    if value is not None:
        value = str(value).strip()
        if value.isdigit():
            return float(value)
        with contextlib.suppress(TypeError, ValueError):
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    reset = headers.get("x-ratelimit-reset")
    if headers.get("x-ratelimit-remaining") == "0" and reset and str(reset).isdigit():
        return max(0.0, int(reset) - time.time())
    return None


def _ref_of(data: Mapping[str, Any], *, created: bool) -> PullRequestRef:
    if data.get("merged") or data.get("merged_at"):
        state = "merged"
    elif data.get("state") == "closed":
        state = "closed"
    else:
        state = "open"
    return PullRequestRef(
        number=int(data["number"]),
        url=str(data.get("html_url") or data.get("url") or ""),
        state=state,
        head_sha=str((data.get("head") or {}).get("sha") or ""),
        created=created,
        updated_at=_timestamp(data.get("updated_at")),
    )


def _timestamp(value: Any) -> datetime.datetime | None:
    """GitHub's ISO 8601 time (``2024-01-01T00:00:00Z``), aware, or None."""
    with contextlib.suppress(TypeError, ValueError):
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return None
