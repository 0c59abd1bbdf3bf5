"""The load benchmark's users, for locust (started by bench/load.py).

Engineers browse the inventory and the health dashboards (list, binding
page, overview, a cluster, a namespace of a cluster); approvers approve
pending requests from a shared pool, each id once (a POST with the CSRF
token, as the page's form does). Every user logs in through the login form
first and keeps its session cookie; production's password hashing is slow
on purpose, and logins are not what is measured.

Once the last user has logged in, every user starts its tasks; the measured
window opens BENCH_WARMUP seconds later and lasts BENCH_DURATION seconds.
(Without the warm-up, the instant where every user sends its first request
at once, queued by the workers, is a large share of a short run's samples:
bench/PROFILE.md.) The portal's /metrics is read at the window's start and
end, so its server means can cover the window only. Every request is
written to BENCH_SAMPLES with the time it finished, for bench/load.py to
summarise.

Environment: BENCH_PLAN (the seeder's plan), BENCH_PASSWORD, BENCH_SAMPLES,
BENCH_USERS, BENCH_DURATION, BENCH_WARMUP, BENCH_THINK ("min-max" seconds
between tasks), METRICS_TOKEN (the portal's, to read /metrics).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import urllib.request

import gevent
from gevent.event import Event
from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(open(os.environ["BENCH_PLAN"]).read())  # noqa: SIM115
PASSWORD = os.environ["BENCH_PASSWORD"]
USERS = int(os.environ["BENCH_USERS"])
DURATION = float(os.environ["BENCH_DURATION"])
WARMUP = float(os.environ.get("BENCH_WARMUP", "0"))
_think = [float(x) for x in os.environ.get("BENCH_THINK", "0").split("-")]
WAIT = constant(0) if max(_think) == 0 else between(_think[0], _think[-1])

_engineers = itertools.cycle(PLAN["engineers"])
_approvers = itertools.cycle(PLAN["approvers"])
_pool = list(PLAN["pending_ids"])
random.Random(3).shuffle(_pool)

_all_in = Event()
_logged_in = 0
_samples: list[tuple[float, str, float, bool, str]] = []
_window: dict[str, float] = {}
_metrics: dict[str, str | None] = {}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kw):
    _samples.append((time.time(), name, response_time, exception is not None, str(exception or "")))


@events.quitting.add_listener
def _dump(environment, **kw):
    _window.setdefault("end", time.time())
    with open(os.environ["BENCH_SAMPLES"], "w") as out:
        json.dump({"window": _window, "samples": _samples, "metrics": _metrics}, out)


def _read_metrics(host: str) -> str | None:
    """The portal's /metrics text now (None if it cannot be read: the
    report then has no server means, and says so)."""
    request = urllib.request.Request(
        host + "/metrics", headers={"Authorization": f"Bearer {os.environ['METRICS_TOKEN']}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode()
    except OSError:
        return None


def _arrived(user: FastHttpUser) -> None:
    """Count a finished login; the last one lets every user start, and the
    measured window opens after the warm-up."""
    global _logged_in
    _logged_in += 1
    if _logged_in == USERS and not _all_in.is_set():
        _window["all_in"] = time.time()
        _all_in.set()
        runner, host = user.environment.runner, user.environment.host or user.host

        def open_window():
            _metrics["start"] = _read_metrics(host)
            _window["start"] = time.time()
            gevent.spawn_later(DURATION, close_window)

        def close_window():
            _window["end"] = time.time()
            _metrics["end"] = _read_metrics(host)
            runner.quit()

        gevent.spawn_later(WARMUP, open_window)


def _status(response) -> str:
    """The HTTP status, or why there was none (status 0: the connection
    failed, and the exception says how)."""
    if response.status_code:
        return f"HTTP {response.status_code}"
    return f"no answer ({type(response.error).__name__}: {response.error})"[:200]


class PortalUser(FastHttpUser):
    """geventhttpclient rather than requests: the driver shares the two cores
    with the portal, and requests' per-request CPU was a share of them that
    the portal then could not use."""

    abstract = True
    wait_time = WAIT
    usernames = _engineers

    def on_start(self) -> None:
        username = next(self.usernames)
        self.client.get("/accounts/login/", name="login page")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.csrf_token(),
            },
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login as {username}: HTTP {response.status_code}")
        _arrived(self)
        _all_in.wait()
        # Each user's first request at a random moment of one think time, as
        # people arrive: all of them at the same instant queue 100 requests
        # on two workers, and the users, synchronised, come back in waves
        # for tens of seconds (seen in the 100-user run's per-second tail).
        gevent.sleep(random.uniform(0, max(_think)))

    def csrf_token(self) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")

    def get(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200 or response.url.split("?")[0].endswith("/login/"):
                response.failure(f"{_status(response)} at {url.split('?')[0]}")


class Engineer(PortalUser):
    weight = 4

    @task(3)
    def bindings_list(self) -> None:
        choice = random.random()
        if choice < 0.4:
            query = f"environment=dev&page={random.randint(2, 20)}"
        elif choice < 0.7:
            query = f"namespace={random.choice(PLAN['namespaces'])}&page={random.randint(2, 19)}"
        else:
            query = f"health_status=healthy&page={random.randint(2, 20)}"
        self.get(f"/bindings/?{query}", "bindings list")

    @task(3)
    def binding_detail(self) -> None:
        first, last = PLAN["binding_ids"]
        self.get(f"/bindings/{random.randint(first, last)}/", "binding page")

    @task(2)
    def health_overview(self) -> None:
        self.get("/health/", "health overview")

    @task(2)
    def health_cluster(self) -> None:
        self.get(f"/health/clusters/{random.choice(PLAN['clusters'])}/", "health cluster")

    @task(2)
    def health_namespace(self) -> None:
        # A (cluster, namespace) pair that holds live bindings (the seeder's plan).
        cluster, namespace = random.choice(PLAN["health_namespaces"])
        self.get(f"/health/clusters/{cluster}/{namespace}/", "health namespace")


class Approver(PortalUser):
    weight = 1
    usernames = _approvers

    @task
    def approve(self) -> None:
        if not _pool:
            gevent.sleep(1)  # the pool is drained: nothing left to approve
            return
        pk = _pool.pop()
        with self.client.post(
            f"/requests/{pk}/approve/",
            data={"csrfmiddlewaretoken": self.csrf_token(), "comment": ""},
            allow_redirects=False,
            name="approve",
            catch_response=True,
        ) as response:
            if response.status_code != 302 or not response.headers.get("Location", "").endswith(
                f"/requests/{pk}/"
            ):
                response.failure(f"approve #{pk}: {_status(response)}")
