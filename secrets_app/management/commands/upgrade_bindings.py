"""``manage.py upgrade_bindings``: bring every live binding's files in the
repositories to what the renderer makes today.

    manage.py upgrade_bindings [--dry-run] [--cluster NAME ...] [--diff]
    manage.py upgrade_bindings --open-prs [--cluster NAME ...] [--force-hand-edited]

The dry run (the default) re-renders each binding, compares with the
repositories' base branches (one tree read per repository) and lists the
bindings whose files differ, with their diffs when asked (``--diff``).
``--open-prs`` opens one pull request per cluster and repository carrying
the upgradable bindings; files edited by hand (or of unknown origin) are
left alone unless ``--force-hand-edited``.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from secrets_app.fleet.check import STATUS_LABELS, FleetReport, Status, check_fleet
from secrets_app.fleet.diffs import binding_diffs
from secrets_app.fleet.repos import FleetRepos
from secrets_app.fleet.upgrades import upgrades_open
from secrets_app.integrations.backends import retry_policy
from secrets_app.models import Cluster


class Command(BaseCommand):
    help = "Compare every live binding's files with today's render; open upgrade pull requests."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--dry-run", action="store_true", help="only list what differs (the default)"
        )
        mode.add_argument(
            "--open-prs",
            action="store_true",
            help="open one upgrade pull request per cluster and repository",
        )
        parser.add_argument(
            "--cluster", action="append", default=[], help="only this cluster (repeatable)"
        )
        parser.add_argument("--diff", action="store_true", help="show each differing file's diff")
        parser.add_argument(
            "--force-hand-edited",
            action="store_true",
            help="with --open-prs: overwrite files edited by hand or of unknown origin",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["force_hand_edited"] and not options["open_prs"]:
            raise CommandError("--force-hand-edited goes with --open-prs.")
        clusters = None
        if options["cluster"]:
            clusters = list(Cluster.objects.filter(name__in=options["cluster"]))
            unknown = set(options["cluster"]) - {c.name for c in clusters}
            if unknown:
                raise CommandError(f"unknown cluster(s): {', '.join(sorted(unknown))}")
        repos = FleetRepos()
        started = time.perf_counter()
        report = check_fleet(clusters, repos=repos)
        self._summary(report, time.perf_counter() - started)
        self._listing(report, repos, diffs=options["diff"])
        if options["open_prs"]:
            self._open(report, force=options["force_hand_edited"])

    def _summary(self, report: FleetReport, seconds: float) -> None:
        counts = {s: n for s, n in report.counts().items() if n}
        words = ", ".join(f"{n} {STATUS_LABELS[Status(s)]}" for s, n in counts.items())
        self.stdout.write(
            f"Checked {len(report.checks)} binding(s) in {seconds:.1f} s: {words or 'none'}."
        )
        for problem in report.problems:
            self.stderr.write(f"Not read: {problem}")

    def _listing(self, report: FleetReport, repos: FleetRepos, *, diffs: bool) -> None:
        differing = report.differing()
        shown = binding_diffs(differing, repos) if diffs else {}
        for check in differing:
            b = check.binding
            self.stdout.write(
                f"#{b.pk} {b.cluster.name}/{b.namespace}/{b.service_account}: "
                f"{STATUS_LABELS[check.status]}" + (f" ({check.problem})" if check.problem else "")
            )
            for f in check.differing:
                reason = f" ({f.reason})" if f.reason else ""
                self.stdout.write(f"    {f.repository} {f.path}: {f.state}{reason}")
            for _repository, diff in shown.get(b.pk, []):
                for _kind, line in diff.lines:
                    self.stdout.write(f"      {line}")

    def _open(self, report: FleetReport, *, force: bool) -> None:
        failed = False
        opened = upgrades_open(report, force=force, policy=retry_policy())
        if not opened:
            self.stdout.write("Nothing to upgrade.")
        for result in opened:
            where = f"{result.cluster.name} {result.repository}"
            if result.error:
                failed = True
                self.stderr.write(f"{where}: {result.error}")
            elif result.upgrade is not None:
                upgrade = result.upgrade
                self.stdout.write(
                    f"{where}: upgrade #{upgrade.pk} {upgrade.url or upgrade.branch} "
                    f"({len(result.bindings)} binding(s))"
                )
            for binding_id, why in sorted(result.refused.items()):
                self.stdout.write(f"{where}: binding #{binding_id} left out: {why}")
        if failed:
            raise CommandError("some upgrade pull requests could not be opened")
