"""The pull-request lifecycle on a real timeline (issue #15): a hypothesis
state machine files and approves requests, and then, as days go by, people
merge, close and reopen their pull requests in either order, GitHub fails,
webhooks are lost, replayed and late, a worker dies mid-run, merged
branches are deleted, and active bindings are revoked.

Everything runs for real except time: the workflow services, the Celery
tasks (their messages go through Redis; ``world.SimulatedWorker`` runs them
when the simulated clock reaches their ETA, so retries wait their countdown),
beat's schedule from settings, the webhook view (signed posts with
``X-GitHub-Delivery``), the loopback GitHub (PyGithub over HTTP) and a local
git cluster. After every step the invariants of the issue must hold; at the
end of each example faults stop, a person retries what failed, an hour
passes, and every request whose pull requests both merged must be settled.

``PORTAL_SIMULATION_EXAMPLES=2000`` runs a longer, randomised hunt
(``PORTAL_SIMULATION_STEPS``: steps per example, 15 by default).
"""

from __future__ import annotations

import datetime
import itertools
import os
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection, transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    BindingState,
    Cluster,
    Notification,
    RequestState,
    TaskRun,
)
from secrets_app.requests import revocation, workflow
from secrets_app.tasks.locks import redis_lock
from tests.factories import GUIDE_ARN, ClusterFactory, UserFactory
from tests.simulation.invariants import Checks, Tracked
from tests.simulation.remote import (
    GitHubHost,
    Ledger,
    LocalHost,
    RemotePull,
    Webhooks,
    die_mid_run,
)
from tests.simulation.world import Beat, Clock, Lock, SimulatedWorker, Timeline
from tests.support.github import WEBHOOK_SECRET, fake_github

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("PORTAL_SIMULATION_EXAMPLES", "0")) or None
SIMULATION = settings(
    # CI: 60 examples of up to 12 steps, about a minute on two
    # cores (every step is real HTTP, git and SQL); PORTAL_SIMULATION_EXAMPLES
    # and PORTAL_SIMULATION_STEPS hunt longer.
    max_examples=EXAMPLES or 60,
    stateful_step_count=int(os.environ.get("PORTAL_SIMULATION_STEPS", "12")),
    deadline=None,
    # The same examples every CI run; a long hunt explores new ones.
    derandomize=EXAMPLES is None,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    # Each example drives real HTTP, git and SQL: slow by hypothesis's
    # standards, by design. (The machine builds its own world per example,
    # so the function-scoped-fixture check does not apply: the test's
    # fixtures are only the database, settings and a temporary folder, which
    # every example resets itself.)
    suppress_health_check=[HealthCheck.too_slow],
)

START = datetime.datetime(2026, 3, 2, 8, 57, tzinfo=datetime.UTC)
TASKS = "secrets_app.tasks"
#: The tasks this world runs (verification needs AWS: its messages are dropped).
RUNS = {
    f"{TASKS}.provisioning.open_pull_requests",
    f"{TASKS}.provisioning.requeue_stuck_requests",
    f"{TASKS}.provisioning.poll_pull_requests",
    f"{TASKS}.provisioning.prune_webhook_deliveries",
    f"{TASKS}.notifications.send_notification",
    f"{TASKS}.notifications.resend_pending_notifications",
}
BEAT = (
    "requeue-stuck-requests",
    "poll-pull-requests",
    "prune-webhook-deliveries",
    "notifications-resend-pending",
)
POLL = f"{TASKS}.provisioning.poll_pull_requests"
OPEN_PRS = f"{TASKS}.provisioning.open_pull_requests"
VISIBILITY = datetime.timedelta(seconds=3600)  # CELERY_VISIBILITY_TIMEOUT's default
PR_LOCK = datetime.timedelta(seconds=600)  # open_pull_requests' lock timeout
MAX_GRANTS = 3
#: Faults injected per example stay below the task's attempts (6), so that
#: no chain of retries can give up: a FAILED request then always means a
#: permanent error.
FAULT_BUDGET = 5
#: How many examples reached what (a report, not a check).
REACHED: Counter = Counter()

FAULTS = {
    "502": lambda fake, method, path: fake.inject(method, path, status=502),
    "503": lambda fake, method, path: fake.inject(method, path, status=503),
    "403 secondary rate limit": lambda fake, method, path: fake.rate_limit_next(
        method, path, retry_after=60
    ),
    "422": lambda fake, method, path: fake.inject(
        method, path, status=422, message="Validation Failed"
    ),
    "GraphQL RATE_LIMITED": lambda fake, method, path: fake.graphql_error_next(),
}
ENDPOINTS = [
    ("POST", r"^/api/graphql$"),
    ("POST", r"/git/trees$"),
    ("POST", r"/git/commits$"),
    ("POST", r"/git/refs$"),
    ("POST", r"/pulls$"),
    ("PATCH", r"/pulls/\d+$"),
    ("GET", r"/pulls/\d+$"),
]
#: One request in three on the local git cluster: git runs a process per
#: call, several per poll, so it costs three times what the fake GitHub does.
HOSTS = st.sampled_from(["github", "github", "local"])
#: What becomes of the webhook of a change on GitHub.
FATES = st.sampled_from(["now", "later", "lost"])
DELAYS = [
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=4),
    datetime.timedelta(minutes=11),
    datetime.timedelta(minutes=35),
    datetime.timedelta(hours=2),
    datetime.timedelta(days=1),
    datetime.timedelta(days=3),
]


@dataclass
class Env:
    """What lives for the whole test: hosts, clusters, people."""

    github: GitHubHost
    local: LocalHost
    clusters: dict
    requester: object
    approver: object


class ProvisioningTimeline(Checks, RuleBasedStateMachine):
    env: Env

    def __init__(self) -> None:
        super().__init__()
        env = self.env
        self.hosts = {"github": env.github, "local": env.local}
        for host in self.hosts.values():
            host.reset()
        self.clock = Clock(START)
        self.worker = SimulatedWorker(self.clock, RUNS)
        self.worker.purge()
        self.timeline = Timeline(self.clock, self.worker, Beat(self.clock, BEAT, burst=1))
        self.timeline.before_task = self._before_task
        self.timeline.after_task = self._after_task
        for key in self.worker.redis.scan_iter("portal:lock:*"):
            self.worker.redis.delete(key)
        mail.outbox.clear()
        self.webhooks = Webhooks(env.github)
        self.ledger = Ledger()
        self.tracked: dict[int, Tracked] = {}
        self.services = itertools.count(1)
        self.faults = 0
        self.killed_runs: set[int] = set()
        self.merged_records: dict[tuple, int] = {}
        self.deleted_branches: set[tuple[str, str, str]] = set()
        self.audit_seen = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        self.audit_seen = self.audit_seen or 0
        self.audit_counts: Counter = Counter()
        self.errors_before_poll = 0
        self.in_step = False
        self.steps = 0
        self.rules_run: set[str] = set()

    def _begin(self, rule: str) -> None:
        """A step starts: until its invariants hold, the example is broken."""
        self.in_step = True
        self.rules_run.add(rule)

    # --- what people do ----------------------------------------------------

    @initialize(hosts=st.lists(HOSTS, min_size=1, max_size=2), active=st.booleans(),
                revoke=st.booleans(), busy=st.booleans())  # fmt: skip
    def approved_requests(self, hosts: list[str], active: bool, revoke: bool, busy: bool) -> None:
        """Start where the timeline gets long: requests approved and their
        pull requests opened (``busy``: their tasks still queued); with
        ``active`` the first one's merged at once, its binding active, and
        with ``revoke`` its revocation approved too."""
        self._begin("approved_requests")
        first = None
        for host in hosts:
            request_id = self._file(host)
            first = first or self.tracked[request_id]
            self._approve(request_id, busy=busy and not active)
        if active:
            # Infra first: the demo's button refuses a grant's deploy first.
            for pull in sorted(self.remote("open"), key=lambda p: p.repository != "infra"):
                if pull.branch == first.branch:
                    self._merge(pull, "now")
            self.timeline.work()
        if active and revoke:
            binding = Binding.objects.get(request_id=first.request_id)
            self._approve(self._revoke(binding), busy=busy)

    @precondition(lambda self: sum(t.kind == "grant" for t in self.tracked.values()) < MAX_GRANTS)
    @rule(host=HOSTS)
    def file_request(self, host: str) -> None:
        self._begin("file_request")
        self._file(host)

    def _file(self, host: str) -> int:
        service = f"svc{next(self.services)}"
        request = workflow.request_create(
            requester=self.env.requester,
            secrets=[{"secret": GUIDE_ARN, "alias": "dcp-db-password"}],
            cluster=self.env.clusters[host],
            service=service,
            namespace="deploy",
            workload_kind="Deployment",
            workload_name=service,
            containers=["app"],
            service_account=f"{service}-secrets",
            role_name="",
            mount_path="/mnt/secrets-store",
            justification="Reads the database password.",
            expires_on=None,
        )
        self.tracked[request.pk] = Tracked(
            request.pk, "grant", host, f"portal/request-{request.pk}"
        )
        return request.pk

    def _in_state(self, *states: str) -> list[Tracked]:
        ids = AccessRequest.objects.filter(pk__in=self.tracked, state__in=states).values_list(
            "pk", flat=True
        )
        return [self.tracked[i] for i in sorted(ids)]

    @precondition(lambda self: self._in_state(RequestState.PENDING))
    @rule(data=st.data(), busy=st.booleans())
    def approve(self, data, busy: bool) -> None:
        """An approver approves. The worker takes the task at once, unless
        ``busy``: then it waits in the queue (for time to pass, or for a
        worker that will be killed)."""
        self._begin("approve")
        chosen = data.draw(st.sampled_from(self._in_state(RequestState.PENDING)), label="request")
        self._approve(chosen.request_id, busy=busy)

    def _approve(self, request_id: int, *, busy: bool) -> None:
        with transaction.atomic():  # as the page does: the task is enqueued on commit
            workflow.request_approve(request_id=request_id, approver=self.env.approver)
        if not busy:
            self.timeline.work()

    @precondition(lambda self: self._in_state(RequestState.FAILED, RequestState.NEEDS_ATTENTION))
    @rule(data=st.data(), busy=st.booleans())
    def retry(self, data, busy: bool) -> None:
        """An approver sends a failed (or stuck) request back to the task."""
        self._begin("retry")
        states = (RequestState.FAILED, RequestState.NEEDS_ATTENTION)
        chosen = data.draw(st.sampled_from(self._in_state(*states)), label="request")
        with transaction.atomic():
            workflow.request_retry(request_id=chosen.request_id, actor=self.env.approver)
        if not busy:
            self.timeline.work()

    def _revocable(self) -> list[Binding]:
        grants = [t.request_id for t in self.tracked.values() if t.kind == "grant"]
        revoking = {t.binding_id for t in self.tracked.values() if t.kind == "revoke"}
        return list(
            Binding.objects.filter(request_id__in=grants, state=BindingState.ACTIVE)
            .exclude(pk__in=revoking)
            .order_by("pk")
        )

    @precondition(lambda self: self._revocable())
    @rule(data=st.data())
    def request_revocation(self, data) -> None:
        self._begin("request_revocation")
        self._revoke(data.draw(st.sampled_from(self._revocable()), label="binding"))

    def _revoke(self, binding: Binding) -> int:
        request = revocation.request_revocation(
            binding_id=binding.pk, requester=self.env.requester, reason="No longer needed."
        )
        host = self.tracked[binding.request_id].host
        self.tracked[request.pk] = Tracked(
            request.pk, "revoke", host, f"portal/revoke-{request.pk}", binding.pk
        )
        return request.pk

    # --- the hosts ---------------------------------------------------------

    def remote(self, *states: str, host: str | None = None) -> list[RemotePull]:
        branches = {t.branch for t in self.tracked.values()}
        found = [
            p
            for h in self.hosts.values()
            if host in (None, h.name)
            for p in h.pulls()
            if p.branch in branches and (not states or p.state in states)
        ]
        return sorted(found)

    @precondition(lambda self: self.remote("open"))
    @rule(data=st.data(), fate=FATES)
    def merge(self, data, fate: str) -> None:
        """Merge either pull request first: on GitHub, its webhook has
        ``fate``; on the local cluster "now" is the demo's merge button (it
        records the merge, and refuses the wrong order), anything else a
        merge outside the portal."""
        self._begin("merge")
        self._merge(data.draw(st.sampled_from(self.remote("open")), label="pull"), fate)

    def _merge(self, pull: RemotePull, fate: str) -> None:
        if not self.hosts[pull.host].merge(pull, button=fate == "now", actor=self.env.approver):
            return  # the demo's button refused the wrong order: nothing happened
        self.ledger.merged_at[pull.key] = self.clock.now()
        self._told(pull, "closed", fate)

    def _told(self, pull: RemotePull, action: str, fate: str) -> None:
        """GitHub sends its webhook: it arrives "now", "later" (it waits,
        and time passing delivers it, possibly late) or is "lost"."""
        if pull.host == "github" and fate != "lost":
            self.webhooks.emit(pull, action)
            if fate == "now":
                self.webhooks.deliver(len(self.webhooks.pending) - 1)

    @precondition(lambda self: self.remote("open"))
    @rule(data=st.data(), fate=FATES)
    def close(self, data, fate: str) -> None:
        self._begin("close")
        pull = data.draw(st.sampled_from(self.remote("open")), label="pull")
        self.hosts[pull.host].close(pull)
        self.ledger.closes[pull.key] += 1
        self._told(pull, "closed", fate)

    def _reopenable(self) -> list[RemotePull]:
        remote = self.remote(host="github")
        live = {(p.repository, p.branch) for p in remote if p.state in ("open", "merged")}
        return [
            p
            for p in remote
            if p.state == "closed"
            and (p.repository, p.branch) not in live
            and (p.host, p.repository, p.branch) not in self.deleted_branches
        ]

    @precondition(lambda self: self._reopenable())
    @rule(data=st.data(), fate=FATES)
    def reopen(self, data, fate: str) -> None:
        """GitHub reopens a closed pull request whose branch still exists and
        that no other open pull request of the branch stands in for."""
        self._begin("reopen")
        pull = data.draw(st.sampled_from(self._reopenable()), label="pull")
        self.hosts[pull.host].reopen(pull)
        self.ledger.reopens[pull.key] += 1
        self._told(pull, "reopened", fate)

    def _deletable(self) -> list[RemotePull]:
        return [
            p
            for p in self.remote("merged")
            if (p.host, p.repository, p.branch) not in self.deleted_branches
        ]

    @precondition(lambda self: self._deletable())
    @rule(data=st.data())
    def delete_merged_branch(self, data) -> None:
        self._begin("delete_merged_branch")
        pull = data.draw(st.sampled_from(self._deletable()), label="pull")
        self.hosts[pull.host].delete_branch(pull)
        self.deleted_branches.add((pull.host, pull.repository, pull.branch))

    @precondition(lambda self: self.faults < FAULT_BUDGET)
    @rule(fault=st.sampled_from(sorted(FAULTS)), endpoint=st.sampled_from(ENDPOINTS))
    def fail_github(self, fault: str, endpoint: tuple[str, str]) -> None:
        """The next matching GitHub call fails (whichever run makes it)."""
        self._begin("fail_github")
        FAULTS[fault](self.env.github.fake, *endpoint)
        self.faults += 1

    # --- webhooks ----------------------------------------------------------

    @precondition(lambda self: self.webhooks.pending)
    @rule(data=st.data())
    def deliver_webhook(self, data) -> None:
        """A waiting delivery arrives: the oldest, or a newer one first (the
        older then arrive late)."""
        self._begin("deliver_webhook")
        index = data.draw(st.integers(0, len(self.webhooks.pending) - 1), label="index")
        self.webhooks.deliver(index)

    @precondition(lambda self: self.webhooks.delivered)
    @rule(data=st.data())
    def replay_webhook(self, data) -> None:
        """GitHub redelivers (same id), or an old, validly signed payload is
        sent again under a new id."""
        self._begin("replay_webhook")
        self._replay(data)

    # --- workers and time --------------------------------------------------

    @precondition(lambda self: self.worker.due(OPEN_PRS))
    @rule(data=st.data(), stage=st.integers(0, 4))
    def kill_worker(self, data, stage: int) -> None:
        """A worker takes an ``open_pull_requests`` message and is killed
        part way: its TaskRun stays "running", its lock stays held until it
        expires, what it opened on the host may be unrecorded, and the
        message comes back after the broker's visibility timeout."""
        self._begin("kill_worker")
        job = data.draw(st.sampled_from(self.worker.due(OPEN_PRS)), label="job")
        request_id = job.args[0]
        lock = redis_lock(f"open-prs:{request_id}", timeout=PR_LOCK.total_seconds())
        if not lock.acquire():
            return  # another run holds it: this one would only skip
        self.worker.take(job)
        run = TaskRun.objects.create(
            kind="open_prs", request_id=request_id, task_id=job.task_id, attempt=job.retries + 1
        )
        self.killed_runs.add(run.pk)
        die_mid_run(request_id, stage)
        now = self.clock.now()
        self.timeline.hold(Lock(now + PR_LOCK, lock.release))
        self.worker.redeliver(job, at=now + VISIBILITY)

    @rule(delay=st.sampled_from(DELAYS), data=st.data())
    def advance(self, delay: datetime.timedelta, data) -> None:
        """Time passes, with beat and the worker running. Each waiting
        webhook arrives before, or after (late: polls have run), or stays
        waiting; and an old delivery may come again afterwards."""
        self._begin("advance")
        after = []
        for delivery in list(self.webhooks.pending):
            when = data.draw(st.sampled_from(["before", "after", "waits"]), label=repr(delivery))
            if when == "before":
                self.webhooks.deliver(self.webhooks.pending.index(delivery))
            elif when == "after":
                after.append(delivery)
        self.timeline.advance(delay)
        for delivery in after:
            self.webhooks.deliver(self.webhooks.pending.index(delivery))
        if self.webhooks.delivered and data.draw(st.booleans(), label="a replay"):
            self._replay(data)

    def _replay(self, data) -> None:
        delivery = data.draw(st.sampled_from(self.webhooks.delivered), label="replayed")
        same_id = data.draw(st.booleans(), label="same delivery id")
        self.webhooks.post(delivery, delivery_id=None if same_id else self.webhooks.new_id())

    def _before_task(self, job) -> None:
        if job.name == POLL:
            self.errors_before_poll = self.env.github.errors_logged()

    def _after_task(self, job, result) -> None:
        if job.name == POLL and self.env.github.errors_logged() == self.errors_before_poll:
            self.check_after_clean_poll()

    # --- invariants --------------------------------------------------------

    @invariant()
    def holds(self) -> None:
        remote = self.remote()
        self.observe(remote)
        self.check_hosts(remote)
        self.check_records(remote)
        self.check_audit(remote)
        self.check_notifications(remote)
        self.check_task_runs()
        self.in_step = False
        self.steps += 1

    def observe(self, remote: list[RemotePull]) -> None:
        """A pull request the portal opened on GitHub makes an "opened"
        webhook, delivered at once (the portal ignores it: what matters is
        that it can be replayed after the merge)."""
        for pull in remote:
            if pull.key not in self.ledger.seen:
                self.ledger.seen.add(pull.key)
                self._told(pull, "opened", "now")

    # --- the end of an example ----------------------------------------------

    def teardown(self) -> None:
        try:
            if not self.in_step:
                self.settle_and_check()
                self.statistics()
        finally:
            self.timeline.release_locks()
            self.clock.stop()
            reset_database()

    def settle_and_check(self) -> None:
        """Faults stop, pending webhooks are lost, an approver retries what
        failed or needs attention, and time passes: every request whose two pull requests
        merged must be settled, and every notification sent once."""
        self.env.github.fake.clear_faults()
        self.webhooks.pending.clear()
        for tracked in self._in_state(RequestState.FAILED, RequestState.NEEDS_ATTENTION):
            with transaction.atomic():
                workflow.request_retry(request_id=tracked.request_id, actor=self.env.approver)
        if self.unsettled():
            # Past the lost-run window (30 minutes) of a killed worker's run,
            # and more than twice the stuck one (10).
            self.timeline.advance(datetime.timedelta(minutes=45))
        remote = self.remote()
        for tracked in self.tracked.values():
            if self.both_merged(tracked, remote):
                state = AccessRequest.objects.get(pk=tracked.request_id).state
                assert self.settled(tracked), f"{tracked}: both PRs merged, still {state}"
        self.holds()
        pending = Notification.objects.filter(state=Notification.State.PENDING).count()
        assert pending == 0, f"{pending} notifications never sent"

    def statistics(self) -> None:
        """What the example reached: printed after the run (``pytest -s``)."""
        states = AccessRequest.objects.filter(pk__in=self.tracked).values_list("kind", "state")
        seen = {f"a {kind} ended {state}" for kind, state in states}
        seen |= {f"rule {rule}" for rule in self.rules_run}
        remote = self.remote()
        seen |= {f"{p.host} PR {p.state}" for p in remote}
        seen |= {f"audit {a}" for a, _ in self.audit_counts}
        if self.killed_runs:
            seen.add("a worker killed")
        if self.webhooks.delivered:
            seen.add("a webhook delivered")
        REACHED.update(seen)
        REACHED["examples"] += 1
        REACHED["steps"] += self.steps

    def unsettled(self) -> bool:
        """Whether time can still change something: a task not finished or
        queued, a notification not sent, merged pull requests not settled."""
        remote = self.remote()
        return bool(
            self.worker.agenda
            or self.timeline.locks
            or Notification.objects.filter(state=Notification.State.PENDING).exists()
            or AccessRequest.objects.filter(
                pk__in=self.tracked, state=RequestState.APPROVED
            ).exists()
            or AccessRequest.objects.filter(
                pk__in=self.tracked, state=RequestState.PROVISIONING, prs_opened_at=None
            ).exists()
            or any(
                self.both_merged(t, remote) and not self.settled(t) for t in self.tracked.values()
            )
        )


def reset_database() -> None:
    """Every example starts without requests: every table of the app but
    the clusters' is emptied (users and clusters stay). Audit events refuse
    DELETE by trigger and TRUNCATE costs a new file per table: delete with
    triggers off (``replica``), which turns foreign keys off too, hence
    every table, in any order."""
    tables = [
        model._meta.db_table
        for model in apps.get_app_config("secrets_app").get_models()
        if model is not Cluster
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 - model tables


def test_the_pull_request_lifecycle_on_a_real_timeline(settings, tmp_path, approver_group):
    settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.LOCAL_REPOS_DIR = tmp_path / "repos"
    settings.NOTIFICATIONS_ENABLED = True
    settings.SLACK_WEBHOOK_URL = ""
    approver = UserFactory(username="pat")
    approver.groups.add(approver_group)
    with connection.cursor() as cursor:
        # Thousands of small transactions: waiting for each to reach the
        # disk is most of their cost, and a test database needs no
        # durability. What commits and what others see is unchanged.
        cursor.execute("SET synchronous_commit TO OFF")
    with fake_github(settings) as fake:
        ProvisioningTimeline.env = Env(
            github=GitHubHost(fake),
            local=LocalHost(tmp_path / "repos"),
            clusters={
                "github": ClusterFactory(name="janus-dev", repo_backend="github"),
                "local": ClusterFactory(name="janus-local", repo_backend="local"),
            },
            requester=UserFactory(username="alice"),
            approver=approver,
        )
        REACHED.clear()
        started = time.monotonic()
        run_state_machine_as_test(ProvisioningTimeline, settings=SIMULATION)
        print(f"\n{time.monotonic() - started:.0f} s; examples reached:")
        for what, count in sorted(REACHED.items()):
            print(f"  {count:5d}  {what}")
