"""The diffs a fleet check shows: each differing file of the bindings asked
for, against its repository's base branch. The old texts are read in one
go per repository (``FleetRepos.read``), only for the files shown."""

from __future__ import annotations

from collections.abc import Sequence

from secrets_app.fleet.check import BindingCheck
from secrets_app.fleet.repos import FleetRepos
from secrets_app.requests.diffs import FileDiff, file_diff


def binding_diffs(
    checks: Sequence[BindingCheck], repos: FleetRepos
) -> dict[int, list[tuple[str, FileDiff]]]:
    """Binding id -> [(repository, diff)] of its differing files."""
    wanted = [
        (c.binding.cluster, f.repository, f.path)
        for c in checks
        for f in c.differing
        if f.found is not None
    ]
    old = repos.read(wanted)
    diffs: dict[int, list[tuple[str, FileDiff]]] = {}
    for check in checks:
        cluster = check.binding.cluster
        for f in check.differing:
            before = old.get((repos.key(cluster, f.repository), f.path))
            diffs.setdefault(check.binding.pk, []).append(
                (f.repository, file_diff(f.path, before, f.text))
            )
    return diffs
