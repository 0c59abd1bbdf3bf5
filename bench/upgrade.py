"""Fleet upgrade dry run: 10,000 bindings on local git, checked against
today's render (what ``manage.py upgrade_bindings --dry-run`` does).

    .venv/bin/python bench/upgrade.py [--bindings 10000] [--clusters 4] [--secrets 3]

Seeds its own PostgreSQL database (portal_bench_upgrade, created if
missing, emptied first) with portal bindings spread over ``--clusters``
clusters that share one local infra and one local deploy repository, and
writes their files there as an older portal would have: most of them
outdated (another first line, with the record of what was written), 1% of
them edited by hand since, 1% without a record (unknown origin), 10%
already current. Then times the check, the whole command (its listing
included) and the diffs of one page. Prints its figures; asserts nothing.
Target: the dry run of 10,000 bindings under 30 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_upgrade")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.calibration import calibration_ms  # noqa: E402
from secrets_app.demo.names import cluster_name, namespace_name, service_name  # noqa: E402

NAMESPACES = 50

ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:app/secret-{i}-AbC{i:03d}"


def ensure_database() -> None:
    import psycopg

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(count: int, clusters: int, secrets: int, repos: Path) -> None:
    from django.contrib.auth import get_user_model

    from secrets_app.models import (
        AccessRequest,
        Binding,
        BindingSource,
        Cluster,
        RequestState,
        SecretGrant,
    )

    user = get_user_model().objects.create(username="bench-requester")
    made = [
        Cluster.objects.create(
            name=cluster_name(c),
            aws_account_id="287796791794",
            region="us-west-2",
            oidc_issuer="oidc.eks.us-west-2.amazonaws.com/id/C0EB4AEEDFD18CBBCBD0686222057E0A",
            repo_backend="local",
            infra_repo=str(repos / "infra.git"),
            deploy_repo=str(repos / "deploy.git"),
        )
        for c in range(clusters)
    ]
    requests = AccessRequest.objects.bulk_create(
        [
            AccessRequest(
                requester=user,
                cluster=made[n % clusters],
                service=service(n),
                namespace=namespace_name(n % NAMESPACES),
                workload_name=service(n),
                containers=["app", "sidecar"],
                service_account=f"{service(n)}-secrets",
                justification="bench",
                state=RequestState.ACTIVE,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    SecretGrant.objects.bulk_create(
        [
            SecretGrant(
                request=r,
                position=i,
                secret=ARN.format(i=i),
                alias=f"secret-{i}",
                jmes=[{"path": "username", "alias": f"user-{i}"}],
                sync_secret_name=f"app-secret-{i}",
                sync_keys=[{"object": f"secret-{i}", "key": "password", "env": f"PASS_{i}"}],
            )
            for r in requests
            for i in range(secrets)
        ],
        batch_size=5000,
    )
    Binding.objects.bulk_create(
        [
            Binding(
                request=r,
                cluster=r.cluster,
                namespace=r.namespace,
                service=r.service,
                service_account=r.service_account,
                secret_provider_class=r.service_account,
                workload_name=r.workload_name,
                source=BindingSource.PORTAL,
                owner=user,
            )
            for r in requests
        ],
        batch_size=2000,
    )


def service(n: int) -> str:
    """The ``n``-th binding's service, in its team's namespace (distinct per ``n``)."""
    return service_name(namespace_name(n % NAMESPACES), n // NAMESPACES)


def write_repositories(repos: Path) -> dict[str, int]:
    """The files as an older portal wrote them, and the binding's record."""
    from secrets_app.fleet.expected import expected_files, live_bindings
    from secrets_app.integrations.localgit import _fast_import_commit, init_demo_repository
    from secrets_app.integrations.repos import blob_id
    from secrets_app.models import Binding

    expected = expected_files(list(live_bindings()))
    files: dict[str, dict[str, str]] = {"infra": {}, "deploy": {}}
    kinds = {"outdated": 0, "edited": 0, "unknown": 0, "current": 0}
    changed = []
    for n, e in enumerate(expected):
        kind = (
            "current"
            if n % 10 == 0
            else "edited"
            if n % 100 == 1
            else "unknown"
            if n % 100 == 2
            else "outdated"
        )
        kinds[kind] += 1
        b = e.binding
        b.files = {repo: sorted(texts) for repo, texts in e.files.items()}
        b.file_hashes = {}
        for repo, texts in e.files.items():
            written = texts if kind == "current" else {p: older(t) for p, t in texts.items()}
            if kind != "unknown":
                b.file_hashes[repo] = {p: blob_id(t) for p, t in written.items()}
            if kind == "edited" and repo == "deploy":
                first = sorted(written)[0]
                written = {**written, first: written[first] + "# edited by hand\n"}
            files[repo].update(written)
        changed.append(b)
    Binding.objects.bulk_update(changed, ["files", "file_hashes"], batch_size=2000)
    for repo, texts in files.items():
        path = init_demo_repository(repos / f"{repo}.git")
        parent = "refs/heads/main"
        _fast_import_commit(path, parent, parent="main", message="seed\n", files=texts)
    return kinds


def older(text: str) -> str:
    first, _, rest = text.partition("\n")
    return f"# rendered by an older portal\n{first}\n{rest}"


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bindings", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=4)
    parser.add_argument("--secrets", type=int, default=3)
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)

    from secrets_app.fleet.check import check_fleet
    from secrets_app.fleet.diffs import binding_diffs
    from secrets_app.fleet.repos import FleetRepos

    print(
        f"calibration: sum(range(10**6)) = {calibration_ms():.0f} ms (an idle modern core: ~10-15)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-upgrade-") as tmp:
        repos = Path(tmp)
        _, seconds = timed(lambda: seed(args.bindings, args.clusters, args.secrets, repos))
        kinds, written = timed(lambda: write_repositories(repos))
        print(
            f"seeded {args.bindings} bindings ({args.secrets} secrets each) in "
            f"{args.clusters} clusters: {seconds:.1f} s, repositories {written:.1f} s; "
            + ", ".join(f"{n} {k}" for k, n in kinds.items())
        )
        fleet = FleetRepos()
        report, check = timed(lambda: check_fleet(repos=fleet))
        counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
        print(f"dry run (check_fleet): {check:.1f} s, {len(report.checks) / check:.0f} bindings/s")
        print(f"  {counts}")
        out = StringIO()
        _, command = timed(lambda: call_command("upgrade_bindings", "--dry-run", stdout=out))
        lines = out.getvalue().count("\n")
        print(f"manage.py upgrade_bindings --dry-run: {command:.1f} s ({lines} lines listed)")
        page = report.differing()[:25]
        _, diffs = timed(lambda: binding_diffs(page, fleet))
        print(f"diffs of one page (25 bindings): {diffs:.2f} s")


if __name__ == "__main__":
    main()
