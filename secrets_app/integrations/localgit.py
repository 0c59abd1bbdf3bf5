"""Local git repository backend: real repositories on disk, for tests and the
one-command demo, where GitHub cannot be reached.

A "pull request" is a record this backend keeps in ``<git dir>/portal/
pulls.json`` next to the branch it points at; merging makes a real merge
commit on the base branch. Repositories are best bare (``init_demo_repository``
makes them so): refs are moved with plumbing, and a checked-out base branch
in a work tree would not follow.

Every git call runs with ``-c user.name/-c user.email`` and with global and
system configuration switched off, so the machine's git config cannot change
what is written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PermanentError, RetryableError
from .repos import (
    DEFINITION_SUFFIXES,
    MAX_TEXT_FILE_BYTES,
    BranchChange,
    PullRequestRef,
    PullRequestState,
    RepoBackend,
)

SYSTEM = "git"
IDENTITY = ("Secrets Access Portal", "portal@localhost")
_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


@dataclass(frozen=True)
class PullRequestContents:
    """What a person reads of one local pull request: its text and what it
    changes, from where its branch left the base to its head."""

    number: int
    title: str
    body: str
    state: PullRequestState
    base: str
    head: str
    #: ``git diff`` of the two commits (unified, three lines of context).
    diff: str
    #: ``[(status letter, path)]`` in ``diff``'s order (A, M, D, T).
    changes: list[tuple[str, str]]
    #: The text of each changed file before and after (UTF-8 text only).
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)


def _run(
    repo: Path | None, args: tuple[str, ...], input: bytes | None
) -> subprocess.CompletedProcess[bytes]:
    command = ["git"]
    if repo is not None:
        command += ["-C", str(repo)]
    command += ["-c", f"user.name={IDENTITY[0]}", "-c", f"user.email={IDENTITY[1]}", *args]
    try:
        return subprocess.run(  # noqa: S603 - fixed argv, no shell
            command,
            input=input,
            capture_output=True,
            timeout=60,
            env={**os.environ, **_GIT_ENV},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RetryableError(f"git {args[0]} timed out", system=SYSTEM) from None


def _git(repo: Path | None, *args: str, input: bytes | None = None, check: bool = True) -> str:
    done = _run(repo, args, input)
    if check and done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        # Another process holding a lock is the only local failure worth a retry.
        error = RetryableError if ".lock" in stderr else PermanentError
        raise error(f"git {args[0]} failed: {stderr}", system=SYSTEM)
    return done.stdout.decode(errors="surrogateescape")


def _git_ok(repo: Path | None, *args: str) -> bool:
    """Whether a yes/no git command (exit status) says yes."""
    return _run(repo, args, None).returncode == 0


def _quote(path: str) -> str:
    """C-style quoting, as git fast-import reads paths."""
    escaped = (
        path.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _fast_import_commit(
    repo: Path,
    ref: str,
    *,
    parent: str | None,
    message: str,
    files: Mapping[str, str],
    deleted: Iterable[str] = (),
) -> str:
    """One commit on ``ref`` (forced), ``parent``'s tree plus ``files`` minus
    ``deleted``, in a single git process whatever the number of files."""
    stream = [
        b"commit " + ref.encode() + b"\n",
        f"committer {IDENTITY[0]} <{IDENTITY[1]}> {int(time.time())} +0000\n".encode(),
        _data(message.encode()),
    ]
    if parent:
        stream.append(f"from {parent}\n".encode())
    for path in deleted:
        stream.append(f"D {_quote(path)}\n".encode())
    for path, content in sorted(files.items()):
        stream.append(f"M 100644 inline {_quote(path)}\n".encode())
        stream.append(_data(content.encode()))
    stream.append(b"\ndone\n")
    _git(repo, "fast-import", "--quiet", "--force", "--done", input=b"".join(stream))
    return _git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}").strip()


def init_demo_repository(
    path: str | os.PathLike[str],
    base: str = "main",
    *,
    files: Mapping[str, str] | None = None,
    bare: bool = True,
) -> Path:
    """Create a repository at ``path`` whose ``base`` branch has one commit."""
    target = Path(path)
    target.mkdir(parents=True, exist_ok=True)
    _git(
        None,
        "init",
        "--quiet",
        *(["--bare"] if bare else []),
        "--initial-branch",
        base,
        str(target),
    )
    initial = (
        files if files is not None else {"README.md": "Managed by the Secrets Access Portal.\n"}
    )
    _fast_import_commit(
        target, f"refs/heads/{base}", parent=None, message="Initial commit\n", files=initial
    )
    if not bare:
        _git(target, "reset", "--quiet", "--hard", base)
    return target


class LocalGitBackend(RepoBackend):
    """Pull requests in one local git repository."""

    def __init__(self, path: str | os.PathLike[str], *, url_base: str | None = None):
        self.path = Path(path).resolve()
        if not self.path.exists():
            raise PermanentError(f"no repository at {self.path}", system=SYSTEM)
        self._git_dir = Path(_git(self.path, "rev-parse", "--absolute-git-dir").strip())
        self._state_dir = self._git_dir / "portal"
        self._url_base = (url_base or self.path.as_uri()).rstrip("/")

    def __repr__(self) -> str:
        return f"LocalGitBackend({self.path})"

    # --- the interface -------------------------------------------------------

    def _ensure(self, change: BranchChange, *, title: str, body: str) -> PullRequestRef:
        branch, base = change.branch, change.base
        self._check_branch_name(branch)
        with self._locked() as pulls:
            base_oid = self._rev(base)
            if base_oid is None:
                raise PermanentError(f"base branch {base!r} not found", system=SYSTEM, status=404)
            for record in pulls["pulls"].values():
                if record["head"] == branch and record["state"] == "merged":
                    # The branch's work is done; as on GitHub, nothing is
                    # written again, even if the branch was deleted since.
                    return self._ref(record, record["head_sha"], created=False)
            head = self._rev(branch)
            if head is not None and self._holds(head, change):
                head_sha = head
            else:
                head_sha = _fast_import_commit(
                    self.path,
                    f"refs/heads/{branch}",
                    parent=base_oid,
                    message=change.message,
                    files=change.files,
                    deleted=change.deleted,
                )
            for record in pulls["pulls"].values():
                if record["head"] == branch and record["state"] == "open":
                    return self._ref(record, head_sha, created=False)
            pulls["next"] += 1
            record = {
                "number": pulls["next"],
                "head": branch,
                "base": base,
                "title": title,
                "body": body,
                "state": "open",
                "head_sha": head_sha,
                "merge_sha": None,
            }
            pulls["pulls"][str(record["number"])] = record
            return self._ref(record, head_sha, created=True)

    def update_pull_request_body(self, number: int, body: str) -> None:
        with self._locked() as pulls:
            self._record(pulls, number)["body"] = body

    def get_pull_request(self, number: int) -> PullRequestRef:
        with self._locked() as pulls:
            record = self._record(pulls, number)
            head = self._current_head(record)
            # Merged by hand (git merge, then push): the record catches up.
            base = self._rev(record["base"])
            if record["state"] == "open" and base and self._is_ancestor(head, base):
                record.update(state="merged", head_sha=head)
            return self._ref(record, head, created=False)

    def merge_pull_request(self, number: int) -> PullRequestRef:
        """Merge as GitHub's merge button does: a merge commit on the base."""
        with self._locked() as pulls:
            record = self._open_record(pulls, number)
            head, base = self._rev(record["head"]), self._rev(record["base"])
            if head is None or base is None:
                raise PermanentError(f"pull request #{number}: branch missing", system=SYSTEM)
            merged = _git(self.path, "merge-tree", "--write-tree", base, head, check=False)
            tree = merged.split("\n", 1)[0].strip()
            if len(tree) != 40 or "CONFLICT" in merged:
                raise PermanentError(f"pull request #{number} has merge conflicts", system=SYSTEM)
            message = f"Merge pull request #{number} from {record['head']}\n\n{record['title']}\n"
            commit = _git(
                self.path, "commit-tree", tree, "-p", base, "-p", head, "-m", message
            ).strip()
            # Compare-and-swap on the base ref: a concurrent push is not lost.
            _git(self.path, "update-ref", f"refs/heads/{record['base']}", commit, base)
            record.update(state="merged", head_sha=head, merge_sha=commit)
            return self._ref(record, head, created=False)

    def close_pull_request(self, number: int) -> PullRequestRef:
        with self._locked() as pulls:
            record = self._open_record(pulls, number)
            head = self._current_head(record)
            record.update(state="closed", head_sha=head)
            return self._ref(record, head, created=False)

    def read_tree(self, ref: str) -> dict[str, str]:
        """One ``ls-tree`` of the branch: ``{path: blob id}``."""
        if self._rev(ref) is None:
            raise PermanentError(f"branch {ref!r} not found", system=SYSTEM, status=404)
        listing = _git(self.path, "ls-tree", "-r", "-z", f"refs/heads/{ref}")
        tree = {}
        for line in filter(None, listing.split("\0")):
            meta, path = line.split("\t", 1)
            _mode, kind, sha = meta.split()
            if kind == "blob":
                tree[path] = sha
        return tree

    def read_paths(self, ref: str, paths: Iterable[str]) -> dict[str, str]:
        """Two git processes whatever the number of paths: the tree, then
        one ``cat-file --batch`` of exactly those blobs."""
        tree = self.read_tree(ref)
        wanted = [(tree[p], p) for p in sorted(set(paths)) if p in tree]
        if not wanted:
            return {}
        return self._read_blobs(wanted)

    def read_text_files(
        self,
        ref: str,
        *,
        suffixes: tuple[str, ...] = DEFINITION_SUFFIXES,
        max_bytes: int = MAX_TEXT_FILE_BYTES,
    ) -> dict[str, str]:
        """Two git processes whatever the repository's size: ``ls-tree`` with
        sizes picks the files, one ``cat-file --batch`` reads them."""
        if self._rev(ref) is None:
            raise PermanentError(f"branch {ref!r} not found", system=SYSTEM, status=404)
        listing = _git(self.path, "ls-tree", "-r", "-z", "-l", f"refs/heads/{ref}")
        wanted: list[tuple[str, str]] = []  # (sha, path)
        for line in filter(None, listing.split("\0")):
            meta, path = line.split("\t", 1)
            _mode, kind, sha, size = meta.split()
            if kind == "blob" and path.lower().endswith(suffixes) and int(size) <= max_bytes:
                wanted.append((sha, path))
        if not wanted:
            return {}
        return self._read_blobs(wanted)

    def _read_blobs(self, wanted: list[tuple[str, str]]) -> dict[str, str]:
        """The text of each (sha, path) in one ``cat-file --batch``; files
        that are not UTF-8 are left out."""
        batch = "\n".join(sha for sha, _ in wanted).encode() + b"\n"
        out = _run(self.path, ("cat-file", "--batch"), batch).stdout
        found, at = {}, 0
        for _, path in wanted:  # "<sha> blob <size>\n<content>\n" per object
            header_end = out.index(b"\n", at)
            size = int(out[at:header_end].split()[2])
            content = out[header_end + 1 : header_end + 1 + size]
            at = header_end + 1 + size + 1
            with contextlib.suppress(UnicodeDecodeError):
                found[path] = content.decode("utf-8")
        return found

    # --- the portal's own pull request page ---------------------------------

    def read_pull_request(self, number: int) -> PullRequestContents:
        """Title, body and diff of pull request ``number``, in at most five
        git processes whatever the number of files. Read without the lock: the
        store is replaced atomically, and a page must not wait on a worker."""
        store = self._state_dir / "pulls.json"
        pulls = json.loads(store.read_text()) if store.exists() else {"pulls": {}}
        record = self._record(pulls, number)
        head = self._current_head(record)
        # Merged by the portal: the base as it was when merged.
        since = (
            f"{record['merge_sha']}^1"
            if record.get("merge_sha")
            else f"refs/heads/{record['base']}"
        )
        fork = _git(self.path, "merge-base", since, head).strip()
        if fork == head:
            # Merged by hand (the base holds the head): the portal's branch
            # is one commit on its base.
            fork = _git(self.path, "rev-parse", f"{head}^1").strip()
        quiet = ("-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff")
        listed = _git(self.path, *quiet, "--no-renames", "--name-status", "-z", fork, head)
        fields = listed.split("\0")
        changes = [(fields[i][:1], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
        diff = _git(self.path, *quiet, "--no-renames", fork, head)
        wanted = [f"{fork}:{p}" for s, p in changes if s != "A"]
        wanted += [f"{head}:{p}" for s, p in changes if s != "D"]
        texts = self._read_objects(wanted)
        return PullRequestContents(
            number=number,
            title=record["title"],
            body=record["body"],
            state=record["state"],
            base=record["base"],
            head=record["head"],
            diff=diff,
            changes=changes,
            before={p: texts[f"{fork}:{p}"] for _, p in changes if f"{fork}:{p}" in texts},
            after={p: texts[f"{head}:{p}"] for _, p in changes if f"{head}:{p}" in texts},
        )

    def _read_objects(self, names: list[str]) -> dict[str, str]:
        """The UTF-8 text of each ``<commit>:<path>`` in one ``cat-file
        --batch``; missing objects and binary files are left out."""
        if not names:
            return {}
        out = _run(self.path, ("cat-file", "--batch"), "\n".join(names).encode() + b"\n").stdout
        found, at = {}, 0
        for name in names:
            header_end = out.index(b"\n", at)
            header = out[at:header_end].split()
            at = header_end + 1
            if header[-1] == b"missing":
                continue
            size = int(header[2])
            content = out[at : at + size]
            at += size + 1
            with contextlib.suppress(UnicodeDecodeError):
                found[name] = content.decode("utf-8")
        return found

    # --- reading helpers for the demo and tests ------------------------------

    def read_files(self, ref: str) -> dict[str, str]:
        """Every file on ``ref`` (branch name or commit) with its content,
        read in two git processes whatever the number of files."""
        listing = _git(self.path, "ls-tree", "-r", "-z", ref)
        entries = [line.split("\t", 1) for line in listing.split("\0") if line]
        shas = [meta.split()[2] for meta, _ in entries]
        out = _run(self.path, ("cat-file", "--batch"), "\n".join(shas).encode() + b"\n").stdout
        contents, at = [], 0
        for _ in shas:  # "<sha> blob <size>\n<content>\n" per object
            header_end = out.index(b"\n", at)
            size = int(out[at:header_end].split()[2])
            contents.append(out[header_end + 1 : header_end + 1 + size].decode())
            at = header_end + 1 + size + 1
        return {path: content for (_, path), content in zip(entries, contents, strict=True)}

    def commits_between(self, base: str, branch: str) -> list[str]:
        return _git(self.path, "rev-list", f"{base}..{branch}").split()

    # --- internals -----------------------------------------------------------

    def _check_branch_name(self, branch: str) -> None:
        if not _git_ok(self.path, "check-ref-format", f"refs/heads/{branch}"):
            raise PermanentError(f"invalid branch name {branch!r}", system=SYSTEM)

    def _rev(self, branch: str) -> str | None:
        out = _git(
            self.path,
            "rev-parse",
            "--verify",
            "--quiet",
            f"refs/heads/{branch}^{{commit}}",
            check=False,
        ).strip()
        return out or None

    def _holds(self, head: str, change: BranchChange) -> bool:
        raw = _git(self.path, "cat-file", "commit", head)
        header, _, message = raw.partition("\n\n")
        parents = sum(1 for line in header.splitlines() if line.startswith("parent "))
        return change.is_held_by(message, parents)

    def _is_ancestor(self, commit: str, of: str) -> bool:
        return _git_ok(self.path, "merge-base", "--is-ancestor", commit, of)

    def _current_head(self, record: dict[str, Any]) -> str:
        # Open pull requests follow their branch; closed and merged ones keep
        # the head they had.
        if record["state"] == "open":
            return self._rev(record["head"]) or record["head_sha"]
        return record["head_sha"]

    def _ref(self, record: dict[str, Any], head_sha: str, *, created: bool) -> PullRequestRef:
        record["head_sha"] = head_sha
        state: PullRequestState = record["state"]
        return PullRequestRef(
            number=record["number"],
            url=f"{self._url_base}#pull/{record['number']}",
            state=state,
            head_sha=head_sha,
            created=created,
        )

    @staticmethod
    def _record(pulls: dict[str, Any], number: int) -> dict[str, Any]:
        try:
            return pulls["pulls"][str(number)]
        except KeyError:
            raise PermanentError(f"no pull request #{number}", system=SYSTEM, status=404) from None

    def _open_record(self, pulls: dict[str, Any], number: int) -> dict[str, Any]:
        record = self._record(pulls, number)
        if record["state"] != "open":
            raise PermanentError(f"pull request #{number} is {record['state']}", system=SYSTEM)
        return record

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The pull request records, under an exclusive lock (two workers may
        provision at once), written back atomically when the block succeeds."""
        self._state_dir.mkdir(exist_ok=True)
        store = self._state_dir / "pulls.json"
        with open(self._state_dir / "lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                pulls = (
                    json.loads(store.read_text()) if store.exists() else {"next": 0, "pulls": {}}
                )
                yield pulls
                scratch = store.with_suffix(".tmp")
                scratch.write_text(json.dumps(pulls, indent=2, sort_keys=True))
                scratch.replace(store)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
