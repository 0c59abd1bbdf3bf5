"""The invariants of the timeline simulation, checked after every step: what
must hold on the hosts, in the portal's records and audit log, in the mail
sent, and of the task runs. A mixin of the state machine, which keeps what
they read: ``tracked`` (the requests of the example), ``ledger`` (what really
happened on the hosts), ``merged_records``, ``audit_seen`` and
``audit_counts`` (what was checked already), ``killed_runs`` and
``remote()`` (the hosts' pull requests of tracked requests)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from django.core import mail

from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    BindingState,
    Notification,
    PullRequest,
    PullRequestPurpose,
    RequestState,
    TaskRun,
)
from tests.simulation.remote import Ledger, RemotePull

#: Words of a failure that retrying would have cured.
TRANSIENT = re.compile(r"\b5\d\d\b|rate limit|RATE_LIMITED|Gave up after retries", re.I)
#: The states in which a request waits for its pull requests (the poll's).
WAITING = (RequestState.PROVISIONING, RequestState.NEEDS_ATTENTION)


@dataclass
class Tracked:
    request_id: int
    kind: str
    host: str
    branch: str
    binding_id: int | None = None  # what a revocation revokes

    def __repr__(self) -> str:
        return f"<#{self.request_id} {self.kind} on {self.host}>"


class Checks:
    tracked: dict[int, Tracked]
    ledger: Ledger
    merged_records: dict[tuple, int]
    audit_seen: int
    audit_counts: Counter
    killed_runs: set[int]

    def remote(self, *states: str, host: str | None = None) -> list[RemotePull]:
        raise NotImplementedError

    def check_hosts(self, remote: list[RemotePull]) -> None:
        """At most one open pull request per request and repository, and no
        pull request opened after one merged."""
        by_branch: dict[tuple, list[RemotePull]] = {}
        for pull in remote:
            by_branch.setdefault((pull.host, pull.repository, pull.branch), []).append(pull)
        for where, pulls in by_branch.items():
            assert sum(p.state == "open" for p in pulls) <= 1, f"two open PRs in {where}: {pulls}"
            merged = [p for p in pulls if p.state == "merged"]
            assert len(merged) <= 1, f"two merged PRs in {where}: {pulls}"
            if merged:
                after = [p for p in pulls if p.number > merged[0].number]
                assert not after, f"PRs opened after {merged[0]} merged: {after}"

    def check_records(self, remote: list[RemotePull]) -> None:
        """A pull request recorded merged never changes back, and really merged."""
        states = {(p.repo_name, p.number): p.state for p in remote}
        rows = PullRequest.objects.filter(request_id__in=self.tracked).values_list(
            "request_id", "repository", "purpose", "repo_name", "number", "state"
        )
        for request_id, repository, purpose, repo_name, number, state in rows:
            key = (request_id, repository, purpose)
            if key in self.merged_records:
                assert (state, number) == ("merged", self.merged_records[key]), (
                    f"#{request_id} {repository}: merged #{self.merged_records[key]} is now "
                    f"{state} #{number}"
                )
            if state == "merged":
                self.merged_records[key] = number
                assert states.get((repo_name, number)) == "merged", (
                    f"#{request_id} records {repository}#{number} merged; the host says "
                    f"{states.get((repo_name, number))}"
                )

    def check_audit(self, remote: list[RemotePull]) -> None:
        """Every new audit event matches a real change."""
        by_url = {p.url: p for p in remote}
        events = AuditEvent.objects.filter(id__gt=self.audit_seen).order_by("id")
        for audit in events:
            self.audit_seen = audit.id
            action, request_id = audit.action, audit.request_id
            after = audit.after or {}
            if action.startswith("pull_request."):
                pull = by_url.get(after.get("url")) or self._local_pull(audit, remote)
                assert pull is not None, f"{action} for a PR the host does not have: {after}"
                self.audit_counts[(action, pull.key)] += 1
                count = self.audit_counts[(action, pull.key)]
                if action == "pull_request.opened":
                    # Once, unless a person reopened it after the portal had
                    # replaced it: a re-run then takes it back as its own.
                    reopens = self.ledger.reopens[pull.key]
                    assert count <= 1 + reopens, f"{action} {count} times for {pull}"
                if action == "pull_request.merged":
                    assert count == 1, f"{action} recorded {count} times for {pull}"
                if action == "pull_request.merged":
                    assert pull.state == "merged", f"{action} for {pull}"
                if action == "pull_request.closed":
                    closes = self.ledger.closes[pull.key]
                    assert count <= closes, f"{count} closed events for {pull}, closed {closes}x"
                if action == "pull_request.reopened":
                    reopens = self.ledger.reopens[pull.key]
                    assert count <= reopens, f"{count} reopens of {pull}, reopened {reopens}x"
            elif action in ("request.active", "request.revoked", "binding.created"):
                self.audit_counts[(action, request_id)] += 1
                assert self.audit_counts[(action, request_id)] == 1, (
                    f"{action} twice: #{request_id}"
                )
            elif action == "binding.revoked":
                self.audit_counts[(action, audit.object_id)] += 1
                assert self.audit_counts[(action, audit.object_id)] == 1, f"{action} twice"
            elif action == "request.failed":
                assert not TRANSIENT.search(audit.message), (
                    f"#{request_id} failed for a transient reason: {audit.message}"
                )
            elif action == "request.needs_attention":
                assert "could not record" not in audit.message, audit.message
                if m := re.search(r"(\S+)#(\d+) was closed without merging", audit.message):
                    key = (m.group(1), int(m.group(2)))
                    self.audit_counts[(action, key)] += 1
                    closes = self.ledger.closes[key]
                    assert self.audit_counts[(action, key)] <= closes, (
                        f"#{request_id} needs attention for {key} closed {closes}x: "
                        f"{self.audit_counts[(action, key)]} times"
                    )
            if action in ("request.active", "request.revoked") and request_id in self.tracked:
                tracked = self.tracked[request_id]
                if (tracked.kind == "grant") == (action == "request.active"):
                    assert self.both_merged(tracked, remote), f"{action} before both merged"

    def _local_pull(self, event: AuditEvent, remote: list[RemotePull]) -> RemotePull | None:
        """The portal keeps no link to a local repository (file: URLs are
        dropped): find the pull request by its record."""
        row = PullRequest.objects.filter(pk=event.object_id).first()
        if row is None:
            return None
        number = (event.after or {}).get("number") or row.number
        return next((p for p in remote if p.key == (row.repo_name, number)), None)

    def both_merged(self, tracked: Tracked, remote: list[RemotePull]) -> bool:
        merged = {
            p.repository
            for p in remote
            if p.host == tracked.host and p.branch == tracked.branch and p.state == "merged"
        }
        return merged == {"infra", "deploy"}

    def check_notifications(self, remote: list[RemotePull]) -> None:
        """No notification is sent twice, and the pull requests' links go out
        once per set of pull requests (a new set needs a closed one)."""
        sent = Counter((m.subject, m.body, tuple(m.to)) for m in mail.outbox)
        rows = Counter(
            (n.subject, n.body, tuple(n.recipients))
            for n in Notification.objects.filter(channel="email", state="sent")
        )
        assert sent == rows, f"emails sent {sent - rows} more often than recorded"
        opened = Counter(
            int(key.split(":")[1])
            for key in Notification.objects.filter(
                event="pull_request.opened", channel="email"
            ).values_list("key", flat=True)
        )
        for request_id, count in opened.items():
            tracked = self.tracked[request_id]
            closes = sum(
                self.ledger.closes[p.key]
                for p in remote
                if p.host == tracked.host and p.branch == tracked.branch
            )
            assert count <= 1 + closes, (
                f"#{request_id}: {count} 'PRs opened' mails, {closes} closes"
            )

    def check_task_runs(self) -> None:
        """Every run ends, except those whose worker was killed."""
        running = set(
            TaskRun.objects.filter(outcome=TaskRun.Outcome.RUNNING).values_list("pk", flat=True)
        )
        assert running <= self.killed_runs, f"runs left running: {running - self.killed_runs}"

    def settled(self, tracked: Tracked) -> bool:
        request = AccessRequest.objects.get(pk=tracked.request_id)
        if tracked.kind == "grant":
            return request.state in (
                RequestState.ACTIVE,
                RequestState.REVOKING,
                RequestState.REVOKED,
            )
        binding = Binding.objects.get(pk=tracked.binding_id)
        return (
            request.state == RequestState.REVOKED
            or binding.state == BindingState.REVOKED
            or (binding.state == BindingState.REVOKING and binding.removal_merged_at is not None)
        )

    def check_after_clean_poll(self) -> None:
        """A poll that met no error has caught up with every missed webhook:
        each waiting request's pull requests are recorded as the host has
        them, and one whose two merged is active (revoked) now."""
        remote = {(p.repo_name, p.number): p for p in self.remote()}
        waiting = AccessRequest.objects.filter(pk__in=self.tracked, state__in=WAITING)
        for request in waiting:
            tracked = self.tracked[request.pk]
            purpose = (
                PullRequestPurpose.GRANT if tracked.kind == "grant" else PullRequestPurpose.REVOKE
            )
            pulls = list(request.pull_requests.filter(purpose=purpose))
            for pull in pulls:
                there = remote[(pull.repo_name, pull.number)]
                assert pull.state == there.state, (
                    f"after a clean poll #{request.pk} records {pull} {pull.state}, "
                    f"the host has it {there.state}"
                )
            if len(pulls) == 2 and all(p.state == "merged" for p in pulls):
                raise AssertionError(f"#{request.pk}: both PRs merged, still {request.state}")
