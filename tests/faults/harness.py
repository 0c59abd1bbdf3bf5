"""The fault tests' harness: a private ``redis-server`` a test may stop and
restart, the portal as real processes (gunicorn, Celery workers) started
against it and the test database, a browser-like session for them, and
what a test reads of Redis and GitHub afterwards. The fixtures that make
these are in this folder's conftest."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import redis
import requests
from celery import Celery
from django.db import connection
from django.test import Client

from tests.support.github import DEPLOY, INFRA
from tests.support.paths import ROOT
from tests.support.waiting import wait_for

BIN = Path(sys.executable).parent
OPEN_PRS = "secrets_app.tasks.provisioning.open_pull_requests"
SWEEPER = "secrets_app.tasks.provisioning.requeue_stuck_requests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """``redis-server`` on a free loopback port, no persistence: stopping it
    loses every queued message, as a crashed Redis without AOF would."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with open(self.workdir / "redis.log", "ab") as log:  # the child keeps its copy
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._answers, timeout=20, what="redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False


class PortalProcesses:
    """gunicorn and Celery workers as separate processes (so a test can kill
    one), configured by environment like a deployment."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.base_url = ""

    def _spawn(self, name: str, argv: list[str]) -> tuple[subprocess.Popen, Path]:
        path = self.workdir / f"{name}.log"
        with open(path, "ab") as log:  # the child keeps its copy
            proc = subprocess.Popen(
                argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.procs.append(proc)
        return proc, path

    def web(self) -> str:
        port = free_port()
        argv = [str(BIN / "gunicorn"), "portal.wsgi:application", "-b", f"127.0.0.1:{port}"]
        self._spawn("web", [*argv, "-w", "1", "--timeout", "120"])
        self.base_url = f"http://127.0.0.1:{port}"
        wait_for(self._web_answers, timeout=120, what="gunicorn")
        return self.base_url

    def worker(self, name: str, *, pool: str = "solo") -> subprocess.Popen:
        """A worker; solo: one process (SIGKILL takes the task with it),
        prefork: one child process that runs the tasks."""
        argv = [str(BIN / "celery"), "-A", "portal", "worker", "--pool", pool, "-c", "1"]
        argv += ["-n", f"{name}@faults", "--without-gossip", "--without-mingle"]
        argv += ["--without-heartbeat", "--loglevel", "INFO"]
        proc, log = self._spawn(name, argv)
        wait_for(
            lambda: proc.poll() is not None or b" ready." in log.read_bytes(),
            timeout=120,
            what=f"worker {name}",
        )
        assert proc.poll() is None, log.read_text()
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)

    @staticmethod
    def children(proc: subprocess.Popen) -> list[int]:
        """Child process ids (a prefork worker's pool), from /proc."""
        path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _web_answers(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False


def test_database_url() -> str:
    s = connection.settings_dict
    host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
    return f"postgres://{s['USER']}@{host}:{port}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class Browser:
    """A logged-in ``requests`` session against the gunicorn portal: the
    session is made in the test database, the CSRF token read from the page."""

    def __init__(self, base_url: str, user) -> None:
        client = Client()
        client.force_login(user)
        self.base_url = base_url
        self.session = requests.Session()
        self.session.cookies.set("sessionid", client.cookies["sessionid"].value)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=60, allow_redirects=False)

    def post_form(self, page: str, action: str, data: dict | None = None) -> requests.Response:
        html = self.get(page).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        return self.session.post(
            self.base_url + action,
            data={"csrfmiddlewaretoken": token, **(data or {})},
            timeout=60,
            allow_redirects=False,
        )


def pr_creations(github) -> dict[str, int]:
    """POST .../pulls per repository as GitHub saw them (the duplicates check)."""
    counts = {}
    for full in (INFRA, DEPLOY):
        owner, name = full.split("/")
        counts[full] = sum(
            1
            for c in github.requests_for(owner, name)
            if c.method == "POST" and c.path.endswith("/pulls") and c.status == 201
        )
    return counts


def queued_tasks(client: redis.Redis) -> list[str]:
    """Names of the tasks waiting in the default queue."""
    return [json.loads(m)["headers"]["task"] for m in client.lrange("celery", 0, -1)]


def unacked_tasks(client: redis.Redis) -> list[str]:
    """Names of the tasks a worker took and has not acknowledged."""
    return [json.loads(m)[0]["headers"]["task"] for m in client.hvals("unacked")]


def beat_sends(broker_url: str, task: str) -> None:
    """What celery beat does for a schedule entry: publish the task by name."""
    beat = Celery("beat-stand-in", broker=broker_url, set_as_current=False)
    with beat.connection_for_write() as conn:
        beat.send_task(task, connection=conn)
