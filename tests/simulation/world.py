"""The time the simulation runs in: a clock that moves only when told, the
Celery queue worked off on that clock, and Celery beat's schedule fired as
beat would fire it.

Why not a real worker: a worker thread runs a task as soon as it is due by
*its* clock, and retries sleep in real seconds; a frozen clock would stall
it, a ticking one would make the timeline depend on the machine's speed.
So tasks go through the real broker (Redis, as in production: ``delay``,
``apply_async`` with a countdown, ``self.retry``), and ``SimulatedWorker``
takes the messages off the queue and runs each real task body when the
simulated clock reaches its ETA, in ETA order, on this thread. Beat is
modelled the same way: ``Beat`` sends each scheduled task when its
schedule in ``settings.CELERY_BEAT_SCHEDULE`` says, and the worker runs it.
"""

from __future__ import annotations

import base64
import datetime
import heapq
import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis
import time_machine
from celery.exceptions import Retry
from celery.schedules import maybe_schedule
from celery.schedules import schedule as celery_schedule
from django.conf import settings

from portal.celery import app as celery_app

QUEUE = "celery"  # Celery's default queue: a Redis list, LPUSHed, BRPOPed


@dataclass(order=True)
class Job:
    """One task message, as a worker would receive it."""

    due: datetime.datetime
    seq: int
    name: str = field(compare=False)
    task_id: str = field(compare=False)
    args: list = field(compare=False)
    kwargs: dict = field(compare=False)
    retries: int = field(compare=False, default=0)

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def __repr__(self) -> str:
        return f"Job({self.short}{tuple(self.args)}, retries={self.retries}, due={self.due:%d %H:%M:%S})"


class Clock:
    """time-machine, stopped (``tick=False``): time moves only by ``move_to``."""

    def __init__(self, start: datetime.datetime):
        self._travel = time_machine.travel(start, tick=False)
        self._coordinates = self._travel.start()

    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def move_to(self, when: datetime.datetime) -> None:
        if when > self.now():
            self._coordinates.move_to(when, tick=False)

    def stop(self) -> None:
        self._travel.stop()


class SimulatedWorker:
    """Celery's Redis queue worked off on the simulated clock.

    ``runs`` names the tasks this world runs; any other message (the
    verification an active binding enqueues: AWS is not part of this world)
    is taken off the queue and counted in ``dropped``."""

    def __init__(self, clock: Clock, runs: Iterable[str]):
        self.clock = clock
        self.runs = set(runs)
        self.redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        self.agenda: list[Job] = []
        self.dropped: dict[str, int] = {}
        self.executed = 0
        self._seq = itertools.count()

    def purge(self) -> None:
        self.redis.delete(QUEUE)
        self.agenda.clear()

    def collect(self) -> None:
        """Take every message off the broker into the agenda."""
        while (raw := self.redis.rpop(QUEUE)) is not None:
            message = json.loads(raw)
            headers = message["headers"]
            body = message["body"]
            if message["properties"].get("body_encoding") == "base64":
                body = base64.b64decode(body)
            args, kwargs, _embed = json.loads(body)
            name = headers["task"]
            if name not in self.runs:
                self.dropped[name] = self.dropped.get(name, 0) + 1
                continue
            eta = headers.get("eta")
            due = datetime.datetime.fromisoformat(eta) if eta else self.clock.now()
            job = Job(due, next(self._seq), name, headers["id"], args, kwargs, headers["retries"])
            heapq.heappush(self.agenda, job)

    def next_due(self) -> datetime.datetime | None:
        self.collect()
        return self.agenda[0].due if self.agenda else None

    def due(self, name: str | None = None) -> list[Job]:
        """The jobs a worker could start now (of task ``name``, if given)."""
        self.collect()
        now = self.clock.now()
        return sorted(j for j in self.agenda if j.due <= now and name in (None, j.name))

    def take(self, job: Job) -> None:
        self.agenda.remove(job)
        heapq.heapify(self.agenda)

    def redeliver(self, job: Job, *, at: datetime.datetime) -> None:
        """A message a dead worker took but never acknowledged comes back
        after the broker's visibility timeout, as it was."""
        heapq.heappush(self.agenda, Job(at, next(self._seq), job.name, job.task_id, job.args,
                                        job.kwargs, job.retries))  # fmt: skip

    def run(self, job: Job) -> Any:
        """Run a job's real task body as a worker would: its request says
        which attempt this is, and ``self.retry`` sends a new message with
        its countdown to the broker (``Retry`` is how Celery says so)."""
        task = celery_app.tasks[job.name]
        task.push_request(
            id=job.task_id,
            root_id=job.task_id,
            retries=job.retries,
            args=job.args,
            kwargs=job.kwargs,
            is_eager=False,
            called_directly=False,
            hostname="simulated-worker",
            delivery_info={"exchange": "", "routing_key": QUEUE, "priority": 0},
        )
        self.executed += 1
        try:
            return task.run(*job.args, **job.kwargs)
        except Retry:
            return "retry"
        finally:
            task.pop_request()


@dataclass
class Lock:
    """A Redis lock a dead worker held: it expires after its timeout on the
    simulated clock (Redis's own TTL runs on real time)."""

    expires: datetime.datetime
    release: Callable[[], None]


class Beat:
    """Celery beat for the named entries of ``CELERY_BEAT_SCHEDULE``.

    A long jump of the clock would fire hundreds of runs that change
    nothing. Beat fires the first ``burst`` runs of each entry at their
    times, then only the last run due before the end of the jump; the ones
    between are counted in ``skipped``. Jobs (retries, redeliveries) and
    lock expiries always happen at their own times, and the thresholds the
    tasks know (stuck after 10 minutes, lost after 30, notifications resent
    after one) are crossed by a later run at the latest at the jump's end."""

    def __init__(self, clock: Clock, names: Iterable[str], *, burst: int):
        self.clock = clock
        self.burst = burst
        self.entries = {n: settings.CELERY_BEAT_SCHEDULE[n] for n in names}
        self.schedules = {n: maybe_schedule(e["schedule"]) for n, e in self.entries.items()}
        self.last = dict.fromkeys(self.entries, clock.now())
        self.sent: dict[str, int] = dict.fromkeys(self.entries, 0)
        self.skipped = 0

    def next_run(self, name: str, after: datetime.datetime | None = None) -> datetime.datetime:
        last = after or self.last[name]
        return self.clock.now() + self.schedules[name].remaining_estimate(last)

    def skip_to_last_before(self, name: str, end: datetime.datetime) -> None:
        """Leave out the runs between now and the last one due by ``end``."""
        schedule, last = self.schedules[name], self.last[name]
        if isinstance(schedule, celery_schedule):  # an interval: arithmetic
            runs = (end - last) // schedule.run_every
            if runs > 1:
                self.last[name] = last + (runs - 1) * schedule.run_every
                self.skipped += runs - 1
            return
        while (after := self.next_run(name, after=last)) <= end:
            if self.next_run(name, after=after) > end:
                break
            last = after
            self.skipped += 1
        self.last[name] = last

    def task(self, name: str) -> str:
        return self.entries[name]["task"]


class Timeline:
    """The clock, the worker and beat together: ``advance`` moves time
    forward, running every job and beat entry due on the way in time order;
    ``before_task`` and ``after_task`` hear of each task run (to check
    what the poll did)."""

    def __init__(self, clock: Clock, worker: SimulatedWorker, beat: Beat):
        self.clock, self.worker, self.beat = clock, worker, beat
        self.locks: list[Lock] = []
        self.before_task: Callable[[Job], None] = lambda job: None
        self.after_task: Callable[[Job, Any], None] = lambda job, result: None

    def run_job(self, job: Job) -> Any:
        self.before_task(job)
        result = self.worker.run(job)
        self.after_task(job, result)
        return result

    def work(self) -> int:
        ran = 0
        while jobs := self.worker.due():
            self.worker.take(jobs[0])
            self.run_job(jobs[0])
            ran += 1
            assert ran <= 200, f"a storm of tasks at one instant: {self.worker.agenda}"
        return ran

    def hold(self, lock: Lock) -> None:
        self.locks.append(lock)

    def release_locks(self, until: datetime.datetime | None = None) -> None:
        for lock in [lk for lk in self.locks if until is None or lk.expires <= until]:
            lock.release()
            self.locks.remove(lock)

    def advance(self, delta: datetime.timedelta, *, limit: int = 400) -> None:
        end = self.clock.now() + delta
        fired = dict.fromkeys(self.beat.entries, 0)
        ran = 0
        # Only the tasks run here put messages on the queue: collect after each.
        self.worker.collect()
        while True:
            candidates: list[tuple[datetime.datetime, int, str]] = []
            if self.worker.agenda:
                candidates.append((self.worker.agenda[0].due, 0, "job"))
            if self.locks:
                candidates.append((min(lk.expires for lk in self.locks), 1, "lock"))
            for name in self.beat.entries:
                candidates.append((self.beat.next_run(name), 2, name))
            when, _, what = min(candidates)
            if when > end:
                break
            self.clock.move_to(when)
            if what == "job":
                job = heapq.heappop(self.worker.agenda)
                self.run_job(job)
                self.worker.collect()
                ran += 1
                assert ran <= limit, f"a storm of tasks: {self.worker.agenda}"
            elif what == "lock":
                self.release_locks(until=when)
            else:
                self.beat.last[what] = when
                fired[what] += 1
                if fired[what] == self.beat.burst:
                    self.beat.skip_to_last_before(what, end)
                celery_app.send_task(self.beat.task(what))
                self.beat.sent[what] += 1
                self.worker.collect()
        self.clock.move_to(end)
