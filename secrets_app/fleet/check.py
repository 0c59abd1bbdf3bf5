"""The fleet check (the dry run): every live binding re-rendered and its
files compared with the repositories' base branches, by blob id, without
reading a file.

For each file three ids meet: what the repository holds now, what the
portal wrote last (``Binding.file_hashes``, recorded when its pull requests
merged) and what the renderer makes today. A file that holds what the
portal wrote is outdated and is rewritten; one that holds neither was
edited by hand and is reported, not overwritten, unless an admin forces
it; a binding with no record of what was written (made before the portal
kept one) has files of unknown origin, treated the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from secrets_app.fleet.expected import Expected, chunks, expected_files, live_bindings
from secrets_app.fleet.repos import REPOSITORIES, FleetRepos, Unreadable
from secrets_app.integrations.repos import blob_id
from secrets_app.models import (
    Binding,
    Claim,
    ClaimKind,
    Cluster,
    PullRequestState,
    UpgradeBinding,
)
from secrets_app.ownership.claims import path_key, repository_key


class FileState(StrEnum):
    SAME = "same"  # holds what the renderer makes today
    UPDATE = "update"  # holds what the portal wrote last: rewritten
    ADD = "add"  # a file today's render adds, free: written
    DELETE = "delete"  # the portal wrote it, today's render has it no more: deleted
    GONE = "gone"  # today's render has it no more, and it is gone already
    EDITED = "edited"  # neither what the portal wrote nor what it renders
    UNKNOWN = "unknown"  # differs, and what the portal wrote is not recorded
    HELD = "held"  # a path today's render adds, held by another binding or request


#: Files that need nothing.
SETTLED = frozenset({FileState.SAME, FileState.GONE})
#: Files an upgrade writes or deletes without being asked to force.
SAFE = frozenset({FileState.UPDATE, FileState.ADD, FileState.DELETE})
#: Files an upgrade touches only when an admin forces it.
FORCED = frozenset({FileState.EDITED, FileState.UNKNOWN})


class Status(StrEnum):
    CURRENT = "current"  # every file is what the renderer makes
    OUTDATED = "outdated"  # upgradable: every differing file is what the portal wrote
    HAND_EDITED = "hand_edited"  # a file was edited by hand: reported, not overwritten
    UNKNOWN_ORIGIN = "unknown_origin"  # differs, nothing recorded of what was written
    CONFLICT = "conflict"  # a new path belongs to another binding or request
    BUSY = "busy"  # a change or revocation of it is in flight: its own pull requests
    UNRENDERABLE = "unrenderable"  # its request no longer renders (rules tightened)
    UNREADABLE = "unreadable"  # its repository could not be read


STATUS_LABELS = {
    Status.CURRENT: "current",
    Status.OUTDATED: "outdated",
    Status.HAND_EDITED: "edited by hand",
    Status.UNKNOWN_ORIGIN: "unknown origin",
    Status.CONFLICT: "path held by another",
    Status.BUSY: "change in flight",
    Status.UNRENDERABLE: "does not render",
    Status.UNREADABLE: "repository unreadable",
}


@dataclass(frozen=True)
class FileCheck:
    repository: str
    path: str
    state: FileState
    text: str | None  # today's render (None: not in it)
    found: str | None  # the repository's blob id (None: no such file)
    reason: str = ""


@dataclass
class BindingCheck:
    binding: Binding
    request_id: int | None
    status: Status
    files: list[FileCheck] = field(default_factory=list)
    problem: str = ""
    #: Open upgrade pull requests that already carry it (ids): still
    #: "outdated" on the base branch until they merge.
    open_upgrades: list[int] = field(default_factory=list)

    @property
    def differing(self) -> list[FileCheck]:
        return [f for f in self.files if f.state not in SETTLED]

    def upgradable(self, *, force: bool = False) -> bool:
        if self.status == Status.OUTDATED:
            return True
        return force and self.status in (Status.HAND_EDITED, Status.UNKNOWN_ORIGIN)

    def changes(self, repository: str, *, force: bool = False) -> tuple[dict, list, list]:
        """What an upgrade writes and deletes for it in ``repository``:
        ({path: text}, [deleted paths], [paths overwritten by force])."""
        writes: dict[str, str] = {}
        deletes: list[str] = []
        overwrites: list[str] = []
        for f in self.files:
            if f.repository != repository:
                continue
            if f.state in FORCED and not force:
                continue
            if f.state in FORCED:
                overwrites.append(f.path)
            if f.state in SAFE | FORCED:
                if f.text is not None:
                    writes[f.path] = f.text
                elif f.found is not None:
                    deletes.append(f.path)
        return writes, sorted(deletes), sorted(overwrites)

    def rendered(self, repository: str) -> dict[str, str]:
        """Today's render in ``repository``: {path: blob id}."""
        return {
            f.path: blob_id(f.text)
            for f in self.files
            if f.repository == repository and f.text is not None
        }


@dataclass
class FleetReport:
    checks: list[BindingCheck]
    #: Repositories that could not be read, and why.
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counted = Counter(c.status for c in self.checks)
        return {status.value: counted.get(status, 0) for status in Status}

    def differing(self) -> list[BindingCheck]:
        return [c for c in self.checks if c.status != Status.CURRENT]

    def by_cluster(self) -> dict[Cluster, list[BindingCheck]]:
        grouped: dict[Cluster, list[BindingCheck]] = {}
        for check in self.checks:
            grouped.setdefault(check.binding.cluster, []).append(check)
        return grouped


def _file_state(
    path: str,
    text: str | None,
    found: str | None,
    recorded: str | None,
    *,
    owned: bool,
    holder: str | None,
) -> tuple[FileState, str]:
    """One file: ``text`` today's render (None: not in it), ``found`` the
    repository's blob id, ``recorded`` what the portal wrote, ``owned``
    whether the binding's files include it, ``holder`` another holder of a
    path it does not own yet."""
    if text is not None:
        wanted = blob_id(text)
        if found == wanted:
            return FileState.SAME, ""
        if not owned:
            if holder is not None:
                return FileState.HELD, f"belongs to {holder}"
            if found is None:
                return FileState.ADD, ""
            return FileState.EDITED, "a file the portal did not write is at this path"
        if recorded is None:
            return FileState.UNKNOWN, "no record of what the portal wrote"
        if found is None:
            return FileState.EDITED, "deleted by hand"
        if found == recorded:
            return FileState.UPDATE, ""
        return FileState.EDITED, "changed since the portal wrote it"
    if found is None:
        return FileState.GONE, ""
    if recorded is None:
        return FileState.UNKNOWN, "no record of what the portal wrote"
    if found == recorded:
        return FileState.DELETE, ""
    return FileState.EDITED, "changed since the portal wrote it"


def _status(files: Sequence[FileCheck]) -> Status:
    states = {f.state for f in files}
    if states <= SETTLED:
        return Status.CURRENT
    if FileState.HELD in states:
        return Status.CONFLICT
    if FileState.EDITED in states:
        return Status.HAND_EDITED
    if FileState.UNKNOWN in states:
        return Status.UNKNOWN_ORIGIN
    return Status.OUTDATED


def _holders(expected: Sequence[Expected]) -> dict[str, Claim]:
    """The claims on paths a binding's render has and its files do not
    (the only ones that can belong to someone else), by key."""
    keys = []
    for e in expected:
        cluster = e.binding.cluster
        for repository, files in e.files.items():
            owned = set((e.binding.files or {}).get(repository) or [])
            repo = repository_key(cluster, repository)
            keys += [path_key(repo, p) for p in files if p not in owned]
    found: dict[str, Claim] = {}
    for part in chunks(sorted(set(keys))):
        for claim in Claim.objects.filter(kind=ClaimKind.PATH, key__in=part).only(
            "key", "binding_id", "request_id"
        ):
            found[claim.key] = claim
    return found


def _busy(bindings: Sequence[Binding]) -> set[int]:
    """Bindings a change or revocation holds (one in flight at a time)."""
    ids = [str(b.pk) for b in bindings]
    busy: set[int] = set()
    for part in chunks(ids):
        keys = Claim.objects.filter(
            kind=ClaimKind.BINDING, key__in=part, request__isnull=False
        ).values_list("key", flat=True)
        busy |= {int(k) for k in keys}
    return busy


def _open_upgrades(bindings: Sequence[Binding]) -> dict[int, list[int]]:
    """Binding id -> the open upgrade pull requests listing it."""
    found: dict[int, list[int]] = {}
    for part in chunks([b.pk for b in bindings]):
        rows = UpgradeBinding.objects.filter(
            binding_id__in=part, upgrade__state=PullRequestState.OPEN
        ).values_list("binding_id", "upgrade_id")
        for binding_id, upgrade_id in rows.order_by("upgrade_id"):
            found.setdefault(binding_id, []).append(upgrade_id)
    return found


def _holder_words(claim: Claim) -> str:
    if claim.binding_id is not None:
        return f"binding #{claim.binding_id}"
    return f"request #{claim.request_id}"


def check_binding(
    e: Expected, repos: FleetRepos, holders: dict[str, Claim], busy: set[int]
) -> BindingCheck:
    binding = e.binding
    if e.problem:
        return BindingCheck(binding, e.request_id, Status.UNRENDERABLE, problem=e.problem)
    cluster = binding.cluster
    files: list[FileCheck] = []
    for repository in REPOSITORIES:
        try:
            tree = repos.tree(cluster, repository)
        except Unreadable as error:
            return BindingCheck(binding, e.request_id, Status.UNREADABLE, problem=str(error))
        rendered = e.files.get(repository) or {}
        owned = set((binding.files or {}).get(repository) or [])
        recorded = (binding.file_hashes or {}).get(repository) or {}
        repo = repository_key(cluster, repository)
        for path in sorted(set(rendered) | owned):
            text = rendered.get(path)
            claim = holders.get(path_key(repo, path)) if path not in owned else None
            # A path it holds the claim of is its own, recorded in its files
            # or not (bindings made before the portal recorded them).
            own = path in owned or (claim is not None and claim.binding_id == binding.pk)
            state, reason = _file_state(
                path,
                text,
                tree.get(path),
                recorded.get(path),
                owned=own,
                holder=_holder_words(claim) if claim is not None and not own else None,
            )
            files.append(FileCheck(repository, path, state, text, tree.get(path), reason))
    status = _status(files)
    if status != Status.CURRENT and binding.pk in busy:
        status = Status.BUSY
    return BindingCheck(binding, e.request_id, status, files)


def check_fleet(
    clusters: Iterable[Cluster] | None = None, *, repos: FleetRepos | None = None
) -> FleetReport:
    """Every live portal binding (of ``clusters``, default all) against the
    repositories: one tree read per repository, a few queries."""
    bindings = list(live_bindings(list(clusters) if clusters is not None else None))
    expected = expected_files(bindings)
    repos = repos or FleetRepos()
    holders = _holders(expected)
    busy = _busy(bindings)
    checks = [check_binding(e, repos, holders, busy) for e in expected]
    in_upgrades = _open_upgrades(bindings)
    for check in checks:
        check.open_upgrades = in_upgrades.get(check.binding.pk, [])
    return FleetReport(checks, problems=sorted(set(repos.errors.values())))
