"""The one-command demo: every part of the portal on embedded defaults.

Starts moto (the demo AWS) and fake Kubernetes APIs on loopback, local git
repositories for the pull requests, a Celery worker with beat when Redis
answers (tasks run inline otherwise), seeds users, clusters, requests and
bindings, sweeps the clusters once, then serves the portal. Demo settings
only; the data is made afresh at every start unless --keep.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portal.celery import app as celery_app
from secrets_app.demo import aws as demo_aws
from secrets_app.demo import teams as demo_teams
from secrets_app.demo.clusters import sandbox_objects, seed_sandbox, start_fake
from secrets_app.demo.history import seed_sweep_history
from secrets_app.demo.requests import seed_requests
from secrets_app.integrations.localgit import init_demo_repository
from secrets_app.models import Cluster


class Command(BaseCommand):
    help = "Run the portal with demo AWS, clusters, repositories and data."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--keep", action="store_true", help="keep the previous demo data")
        parser.add_argument(
            "--no-serve", action="store_true", help="set everything up, sweep, and exit"
        )

    def handle(self, *args, **options):
        if not getattr(settings, "PORTAL_DEMO", False):
            raise CommandError("run_demo only runs with the demo settings (portal.settings.demo).")
        state_dir = Path(settings.PORTAL_DEMO_DIR)
        if not options["keep"]:
            self._reset(state_dir)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", verbosity=0)

        moto, endpoint = demo_aws.start_moto()
        settings.AWS_ENDPOINT_URL = os.environ["AWS_ENDPOINT_URL"] = endpoint
        issuers = list(
            Cluster.objects.exclude(oidc_issuer="").values_list("oidc_issuer", flat=True)
        )
        arns = demo_aws.seed_aws(endpoint, [*issuers, seed_sandbox_issuer()])

        repos = state_dir / "repos"
        for name in ("infra", "deploy"):
            if not (repos / f"{name}.git").exists():
                init_demo_repository(repos / f"{name}.git", base="main")
        settings.LOCAL_REPOS_DIR = repos
        os.environ["LOCAL_REPOS_DIR"] = str(repos)

        dev_fake = start_fake(demo_teams.janus_objects())
        sandbox = demo_teams.labelled_sandbox(sandbox_objects()[0])
        sandbox_fake = start_fake(sandbox)
        Cluster.objects.filter(name__in=["janus-dev", "janus-prod"]).update(
            repo_backend="local", kube_api_url=dev_fake.url
        )
        seed_sandbox(sandbox_fake.url)
        demo_teams.seed_teams([o["metadata"]["name"] for o in sandbox if o["kind"] == "Namespace"])

        worker = self._start_worker()
        seed_requests(arns)
        self._sweep_all()
        seed_sweep_history()  # the day before: the 24-hour trend has a history
        self._print_summary(endpoint, worker)
        if options["no_serve"]:
            self._stop(worker, moto, dev_fake, sandbox_fake)
            return
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            self._stop(worker, moto, dev_fake, sandbox_fake)

    def _reset(self, state_dir: Path) -> None:
        shutil.rmtree(state_dir, ignore_errors=True)
        state_dir.mkdir(parents=True, exist_ok=True)
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3") and Path(database["NAME"]).exists():
            from django.db import connection

            connection.close()
            Path(database["NAME"]).unlink()

    def _start_worker(self) -> subprocess.Popen | None:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
        except redis.RedisError:
            celery_app.conf.task_always_eager = True
            self.stderr.write(
                self.style.WARNING(
                    f"Redis does not answer at {settings.REDIS_URL}: tasks run inline "
                    "(eager mode), and nothing runs on a schedule."
                )
            )
            return None
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.demo"}
        env.setdefault("HEALTH_SWEEP_MINUTES", "1")
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--beat"]
        command += ["--pool", "solo", "--loglevel", "WARNING", "--schedule"]
        command += [str(Path(settings.PORTAL_DEMO_DIR) / "celerybeat-schedule")]
        # Our own interpreter and arguments: nothing here comes from input.
        return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603

    def _sweep_all(self) -> None:
        from secrets_app.health.service import sweep_cluster

        for cluster in Cluster.objects.filter(active=True):
            sweep_cluster(cluster.pk)

    def _print_summary(self, endpoint: str, worker) -> None:
        from secrets_app.management.commands.seed_demo import DEMO_USERS

        self.stdout.write("\nSecrets Access Portal demo")
        self.stdout.write(f"  AWS (moto):       {endpoint}")
        self.stdout.write(f"  git repositories: {settings.LOCAL_REPOS_DIR}")
        self.stdout.write(
            "  Celery:           " + ("worker and beat running" if worker else "eager (no Redis)")
        )
        self.stdout.write("  Users (password):")
        for username, password, _approver, _admin, role in DEMO_USERS:
            self.stdout.write(f"    {username:<6} {password:<16} {role}")
        self.stdout.write("")

    def _stop(self, worker, moto, *fakes) -> None:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
        for fake in fakes:
            fake.stop()
        moto.stop()


def seed_sandbox_issuer() -> str:
    from secrets_app.demo.clusters import SANDBOX

    return SANDBOX["oidc_issuer"]
