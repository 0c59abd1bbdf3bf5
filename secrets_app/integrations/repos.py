"""The repository-backend interface: open the pull request that carries a
binding's files, read it back, and the bounded retry policy tasks use.

Two implementations: ``github.GitHubBackend`` (PyGithub, GitHub or GitHub
Enterprise) and ``localgit.LocalGitBackend`` (real git repositories on disk,
for tests and the demo). Nothing here imports Django or a client library.

How a backend knows a branch is already up to date, without recomputing a
tree on the server: every commit a backend makes carries a trailer
``Portal-Content: sha256:<hex>`` whose value is a hash of the *request* (base
branch name, files, deleted paths). If the branch head is a single commit
(one parent) carrying the trailer for the content being asked for, the
branch holds exactly that content. A commit pushed on top by someone else, or
a different request, fails the check and the branch is rebuilt.

A base branch that moved on since the commit was made is deliberately not
chased: rebuilding would dismiss reviews and restart CI and Terraform plans on
every task retry, and GitHub already shows such a pull request as behind.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar, runtime_checkable

from .errors import PermanentError, RetryableError

PullRequestState = Literal["open", "merged", "closed"]

CONTENT_TRAILER = "Portal-Content"
_TRAILER_RE = re.compile(rf"^{CONTENT_TRAILER}: (sha256:[0-9a-f]{{64}})\s*$", re.MULTILINE)


#: The files that can define a Kubernetes object or a Terraform resource.
DEFINITION_SUFFIXES = (".yaml", ".yml", ".tf")
#: Larger files are not read as text (``read_text_files``).
MAX_TEXT_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class PullRequestRef:
    """What the portal stores about one pull request."""

    number: int
    url: str
    state: PullRequestState
    head_sha: str
    # True only when this very call opened the pull request.
    created: bool = False
    # When the remote last changed it (GitHub's ``updated_at``), if it says:
    # a reading older than an event already applied must not undo it.
    updated_at: datetime.datetime | None = None


@dataclass(frozen=True)
class BranchChange:
    """What one ``ensure_pull_request`` call asks ``branch`` to hold: checked,
    fingerprinted and given its commit message once, the same way for every
    backend."""

    branch: str
    base: str
    files: Mapping[str, str]
    deleted: list[str]
    fingerprint: str
    message: str

    def is_held_by(self, message: str | None, parent_count: int) -> bool:
        """Whether a branch head (its message and number of parents) already
        holds this change as one commit."""
        return is_up_to_date(message, parent_count, self.fingerprint)


class RepoBackend(ABC):
    """One repository (infra or deploy) in which the portal opens pull requests.

    ``ensure_pull_request`` is the same for every backend up to the point
    where the repository is read: a subclass implements ``_ensure`` (read the
    branch, rewrite it unless ``change.is_held_by`` its head, find or open the
    pull request) and the two other calls."""

    def ensure_pull_request(
        self,
        *,
        branch: str,
        base: str,
        files: Mapping[str, str],
        delete: Iterable[str] = (),
        title: str,
        body: str,
    ) -> PullRequestRef:
        """Make ``branch`` hold exactly ``files`` (and not ``delete``) as one
        commit on top of ``base``, with one open pull request for it.

        Idempotent: when the branch already holds that content and its pull
        request is open, nothing changes. An existing pull request's title and
        body are left alone (``update_pull_request_body`` may have linked the
        other repository's pull request since)."""
        deleted = validate_change(files, delete)
        fingerprint = content_fingerprint(base, files, deleted)
        change = BranchChange(
            branch=branch,
            base=base,
            files=files,
            deleted=deleted,
            fingerprint=fingerprint,
            message=commit_message(title, fingerprint),
        )
        return self._ensure(change, title=title, body=body)

    @abstractmethod
    def _ensure(self, change: BranchChange, *, title: str, body: str) -> PullRequestRef: ...

    @abstractmethod
    def update_pull_request_body(self, number: int, body: str) -> None: ...

    @abstractmethod
    def get_pull_request(self, number: int) -> PullRequestRef: ...

    @abstractmethod
    def read_tree(self, ref: str) -> dict[str, str]:
        """Every file on branch ``ref`` as ``{path: git blob id}``: the whole
        listing in one request (one git process locally), no content read."""

    def read_paths(self, ref: str, paths: Iterable[str]) -> dict[str, str]:
        """The text of ``paths`` on branch ``ref`` (those that exist and are
        UTF-8 text): what ``read_text_files`` reads, narrowed to them."""
        wanted = set(paths)
        if not wanted:
            return {}
        found = self.read_text_files(ref, suffixes=tuple({p.lower() for p in wanted}))
        return {path: text for path, text in found.items() if path in wanted}

    @abstractmethod
    def read_text_files(
        self,
        ref: str,
        *,
        suffixes: tuple[str, ...] = DEFINITION_SUFFIXES,
        max_bytes: int = MAX_TEXT_FILE_BYTES,
    ) -> dict[str, str]:
        """The files on branch ``ref`` whose names end with one of
        ``suffixes`` (case-insensitive), as text. Files larger than
        ``max_bytes`` or not UTF-8 are left out: what is read here is searched
        for definitions, and a definition is small text. The number of
        requests does not grow with the repository."""


@runtime_checkable
class MergeableRepoBackend(Protocol):
    """A ``RepoBackend`` on which the portal itself can merge or close (local demo)."""

    def merge_pull_request(self, number: int) -> PullRequestRef: ...

    def close_pull_request(self, number: int) -> PullRequestRef: ...


# --- content fingerprint shared by the backends ------------------------------


def blob_id(text: str) -> str:
    """Git's object id of a file holding ``text`` (UTF-8): what a tree lists
    for it, locally (``ls-tree``) and on GitHub (the trees API), so a file
    is compared with what the portal would write without reading it."""
    data = text.encode("utf-8")
    header = b"blob %d\0" % len(data)
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


def blob_ids(files: Mapping[str, str]) -> dict[str, str]:
    """``{path: blob_id(text)}``."""
    return {path: blob_id(text) for path, text in files.items()}


def validate_change(files: Mapping[str, str], delete: Iterable[str]) -> list[str]:
    """Reject paths no backend should write; return ``delete`` as a sorted list.

    Checked here once so that both backends fail the same way, before any
    request: a bad path is the caller's bug and retrying cannot fix it."""
    deleted = sorted(set(delete))
    if not files and not deleted:
        raise PermanentError("a pull request needs at least one file to write or delete")
    for path in [*files, *deleted]:
        _check_path(path)
    both = set(files) & set(deleted)
    if both:
        raise PermanentError(f"paths both written and deleted: {sorted(both)}")
    return deleted


def _check_path(path: str) -> None:
    if not isinstance(path, str) or not path:
        raise PermanentError("empty file path")
    parts = path.split("/")
    if (
        path.startswith("/")
        or path.endswith("/")
        or "\x00" in path
        or any(part in ("", ".", "..") for part in parts)
        or any(part.lower() == ".git" for part in parts)
    ):
        raise PermanentError(f"invalid file path {path!r}")


def content_fingerprint(base: str, files: Mapping[str, str], delete: Iterable[str]) -> str:
    """A stable hash of one request's content (order-independent)."""
    canonical = json.dumps(
        {"base": base, "files": sorted(files.items()), "delete": sorted(set(delete))},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def commit_message(title: str, fingerprint: str) -> str:
    """The commit message: the PR title, then the trailer that makes re-runs cheap."""
    return (
        f"{title.strip() or 'Secrets Access Portal change'}\n\n{CONTENT_TRAILER}: {fingerprint}\n"
    )


def fingerprint_of_message(message: str | None) -> str | None:
    """The content trailer of a commit message, or None if it has none."""
    if not message:
        return None
    found = _TRAILER_RE.findall(message)
    # The last trailer wins, as git's own trailer parsing does.
    return found[-1] if found else None


def is_up_to_date(message: str | None, parent_count: int, fingerprint: str) -> bool:
    """Whether a branch head (its message and number of parents) already
    holds the content with this fingerprint as one commit."""
    return parent_count == 1 and fingerprint_of_message(message) == fingerprint


# --- retry policy ------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, bounded in attempts.

    ``delay(n)`` for the n-th retry (1-based) is uniform in
    ``[0, min(cap, base * 2**(n-1))]`` (AWS "full jitter": spreads retries of
    many workers instead of synchronising them). When the remote said how long
    to wait (``RetryableError.retry_after``), the delay is at least that:
    retrying sooner only prolongs a secondary rate limit. ``max_retry_after``
    bounds what a remote can ask for, so a task never parks for hours.
    """

    base: float = 2.0
    cap: float = 120.0
    max_attempts: int = 6
    max_retry_after: float = 900.0

    def delay(
        self,
        attempt: int,
        error: BaseException | None = None,
        *,
        rng: random.Random | None = None,
    ) -> float:
        if attempt < 1:
            raise ValueError("attempt is 1-based")
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        jittered = (rng or random).uniform(0.0, ceiling)
        retry_after = getattr(error, "retry_after", None)
        if isinstance(error, RetryableError) and retry_after is not None:
            return max(jittered, min(float(retry_after), self.max_retry_after))
        return jittered

    def should_retry(self, attempt: int, error: BaseException) -> bool:
        """Whether the n-th retry (1-based) should happen after ``error``."""
        return isinstance(error, RetryableError) and attempt <= self.max_attempts

    def call(
        self,
        func: Callable[[], T],
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> T:
        """Run ``func``, retrying RetryableError per this policy (synchronous
        callers: management commands, the demo). Celery tasks use ``delay``
        as their countdown instead of sleeping in a worker."""
        attempt = 0
        while True:
            try:
                return func()
            except RetryableError as exc:
                attempt += 1
                if not self.should_retry(attempt, exc):
                    raise
                sleep(self.delay(attempt, exc, rng=rng))


DEFAULT_RETRY_POLICY = RetryPolicy()
