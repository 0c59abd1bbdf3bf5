"""Seed the load benchmark's database fast: clusters, users, bindings with
their requests and secrets, a day of health sweeps and snapshots, and a pool
of pending requests for the approvers to approve.

Run by bench/load.py (``python bench/seed_load.py --plan plan.json``) with
DJANGO_SETTINGS_MODULE and DATABASE_URL set to a migrated, empty database.
Rows go in with ``bulk_create``; the two big tables (snapshots and sweeps)
with PostgreSQL's COPY. It writes a plan (JSON) that tells the load driver
who to log in as and which ids exist.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Names that read like a company's (``payments/payments-api`` in
# ``eks-prod-us-west-2-01``), as the demo's, not ``team-3/svc-00042``: pure
# functions of an index, so the seed's shape and speed are unchanged.
from secrets_app.demo.names import (
    cluster_name,
    namespace_name,
    service_name,
    team_group,
)

ACCOUNT = "287796791794"
REGION = "us-west-2"
ISSUER = f"oidc.eks.{REGION}.amazonaws.com/id/C0EB4AEEDFD18CBBCBD0686222057E0A"
ENVIRONMENTS = ("dev", "staging", "prod")
NAMESPACES = 10
# Roughly what a fleet looks like: most mounts fine, a few in trouble.
HEALTH_MIX = (
    ("healthy", 0.86),
    ("degraded", 0.04),
    ("failing", 0.04),
    ("pending", 0.03),
    ("unknown", 0.03),
)
SWEEP_MINUTES = 5
#: The unowned namespace the approval pool's new services are filed in.
POOL_NAMESPACE = "onboarding"
POOL_JUSTIFICATION = "Seeded for the load benchmark: approve me."


def _health(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for status, share in HEALTH_MIX:
        acc += share
        if x < acc:
            return status
    return "healthy"


def _details(status: str) -> dict:
    failing = status in ("failing", "degraded")
    diagnosis = (
        {
            "code": "secret-not-found",
            "title": "The secret does not exist",
            "cause": "The ARN or name in the SecretProviderClass names no secret.",
            "fix": "Check the secret's ARN and region.",
        }
        if failing
        else None
    )
    pods = [{"pod": "app-7d9f-abcde", "message": "ResourceNotFoundException"}] if failing else []
    return {
        "failing_pods": pods,
        "failing_pods_total": len(pods),
        "pods_waiting": status == "pending",
        "object_versions": {},
        "findings": [],
        "synced_secrets_present": [],
        "synced_secrets_missing": [],
        "service_account_found": True,
        "annotation_ok": True,
        "diagnosis": diagnosis,
    }


def new_service(i: int) -> str:
    """The ``i``-th service of the approval pool (distinct for each ``i``)."""
    return service_name(namespace_name(i % NAMESPACES), i // NAMESPACES)


def health_namespaces() -> list[list[str]]:
    """Each (cluster, namespace) that holds live bindings, for the health
    namespace page: the pages a sweep fills, never an empty one."""
    from secrets_app.health.service import LIVE_STATES
    from secrets_app.models import Binding

    pairs = (
        Binding.objects.filter(state__in=LIVE_STATES)
        .values_list("cluster__name", "namespace")
        .distinct()
        .order_by("cluster__name", "namespace")
    )
    return [list(pair) for pair in pairs]


def _copy(table: str, columns: list[str], rows) -> int:
    from django.db import connection

    count = 0
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def seed(
    *,
    clusters: int,
    bindings: int,
    history: int,
    pool: int,
    requesters: int,
    approvers: int,
    password: str,
    seed_value: int = 9,
) -> dict:
    """Fill an empty database; return the plan for the load driver."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from secrets_app.models import (
        AccessRequest,
        Binding,
        BindingSecret,
        Cluster,
        Namespace,
        RequestState,
        SecretGrant,
    )

    rng = random.Random(seed_value)
    now = timezone.now()
    User = get_user_model()
    # One hash for every bench user: production's PBKDF2 takes seconds per
    # hash on this machine, and the password is the same anyway.
    hashed = make_password(password)
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=settings.PORTAL_APPROVER_GROUP)
        req_users = User.objects.bulk_create(
            User(
                username=f"engineer-{i:02d}", email=f"engineer-{i:02d}@example.com", password=hashed
            )
            for i in range(requesters)
        )
        appr_users = User.objects.bulk_create(
            User(
                username=f"approver-{i:02d}", email=f"approver-{i:02d}@example.com", password=hashed
            )
            for i in range(approvers)
        )
        group.user_set.add(*appr_users)
        cls = Cluster.objects.bulk_create(
            Cluster(
                name=cluster_name(i, ENVIRONMENTS),
                environment=ENVIRONMENTS[i % len(ENVIRONMENTS)],
                aws_account_id=ACCOUNT,
                region=REGION,
                oidc_issuer=ISSUER,
                required_approvals=1,
            )
            for i in range(clusters)
        )
        # Every namespace is owned by its team, as the sweep would record them:
        # the inventory and the queues show the owning team (a subquery per row).
        spaces = [namespace_name(n) for n in range(NAMESPACES)]
        owners = [Group.objects.get_or_create(name=team_group(ns))[0] for ns in spaces]
        Namespace.objects.bulk_create(
            Namespace(
                cluster=c,
                name=ns,
                label_team=owner.name,
                team=owner,
                seen_at=now,
            )
            for c in cls
            for ns, owner in zip(spaces, owners, strict=True)
        )

        # Bindings: four in five made through the portal (with their request),
        # the rest imported.
        # Each namespace's services in turn: distinct names, whatever the count.
        places, served = [], [0] * NAMESPACES
        for i in range(bindings):
            cluster, k = cls[i % clusters], (i // clusters) % NAMESPACES
            places.append((cluster, spaces[k], service_name(spaces[k], served[k])))
            served[k] += 1
        portal_made = [i for i in range(bindings) if i % 5]
        reqs = AccessRequest.objects.bulk_create(
            (
                AccessRequest(
                    requester=req_users[i % requesters],
                    cluster=places[i][0],
                    service=places[i][2],
                    namespace=places[i][1],
                    workload_name=places[i][2],
                    containers=["app"],
                    service_account=f"{places[i][2]}-secrets",
                    justification="Seeded for the load benchmark.",
                    state=RequestState.ACTIVE,
                    submitted_at=now - timedelta(days=30),
                    decided_at=now - timedelta(days=29),
                )
                for i in portal_made
            ),
            batch_size=2000,
        )
        request_of = dict(zip(portal_made, reqs, strict=True))
        statuses = [_health(rng) for _ in range(bindings)]
        made = Binding.objects.bulk_create(
            (
                Binding(
                    request=request_of.get(i),
                    cluster=cluster,
                    namespace=namespace,
                    service=service,
                    service_account=f"{service}-secrets",
                    secret_provider_class=f"{service}-secrets",
                    role_arn=f"arn:aws:iam::{ACCOUNT}:role/{cluster.name}_{namespace}_{service}",
                    workload_name=service,
                    synced_secret_names=[f"{service}-db"],
                    source="portal" if i in request_of else "imported",
                    owner=request_of[i].requester if i in request_of else None,
                    health_status=statuses[i],
                    health_checked_at=now,
                    failing_since=now - timedelta(hours=2) if statuses[i] == "failing" else None,
                )
                for i, (cluster, namespace, service) in enumerate(places)
            ),
            batch_size=2000,
        )
        secrets, grants = [], []
        for i, b in enumerate(made):
            for k in range(1 + i % 3):
                name = f"{b.service}/secret-{k}"
                arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbC{k:03d}"
                secrets.append(BindingSecret(binding=b, arn=arn, name=name, alias=f"secret-{k}"))
                if b.request_id:
                    grants.append(
                        SecretGrant(
                            request_id=b.request_id, position=k, secret=arn, alias=f"secret-{k}"
                        )
                    )
        BindingSecret.objects.bulk_create(secrets, batch_size=5000)
        SecretGrant.objects.bulk_create(grants, batch_size=5000)

        # The pool the approvers drain: pending, filed by engineers, one secret each.
        pending = AccessRequest.objects.bulk_create(
            (
                AccessRequest(
                    requester=req_users[i % requesters],
                    cluster=cls[i % clusters],
                    service=new_service(i),
                    namespace=POOL_NAMESPACE,
                    workload_name=new_service(i),
                    containers=["app"],
                    service_account=f"{new_service(i)}-secrets",
                    justification=POOL_JUSTIFICATION,
                    state=RequestState.PENDING,
                    submitted_at=now - timedelta(minutes=i % 600),
                )
                for i in range(pool)
            ),
            batch_size=2000,
        )
        SecretGrant.objects.bulk_create(
            (
                SecretGrant(
                    request=r,
                    secret=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{r.service}/db-QWYC1r",
                    alias="db",
                )
                for r in pending
            ),
            batch_size=5000,
        )

        # A day of sweeps every few minutes per cluster, and the last
        # ``history`` sweeps' snapshots of every binding (the latest matches
        # the binding's status).
        sweeps_per_cluster = 24 * 60 // SWEEP_MINUTES
        by_cluster: dict[int, list[str]] = {}
        for b in made:
            by_cluster.setdefault(b.cluster_id, []).append(b.health_status)

        def sweep_rows():
            for c in cls:
                counts = {s: 0 for s, _ in HEALTH_MIX}
                for s in by_cluster.get(c.pk, []):
                    counts[s] += 1
                for n in range(sweeps_per_cluster):
                    at = now - timedelta(minutes=SWEEP_MINUTES * n)
                    yield (
                        c.pk,
                        at,
                        at + timedelta(seconds=3),
                        True,
                        "",
                        12,
                        400,
                        json.dumps(counts),
                        "[]",
                    )

        n_sweeps = _copy(
            "secrets_app_clustersweep",
            [
                "cluster_id",
                "started_at",
                "finished_at",
                "ok",
                "error",
                "requests",
                "pods",
                "counts",
                "readiness",
            ],
            sweep_rows(),
        )
        details = {s: json.dumps(_details(s)) for s, _ in HEALTH_MIX}

        def snapshot_rows():
            for b in made:
                for n in range(history):
                    status = b.health_status if n == 0 else "healthy"
                    bad = status in ("failing", "degraded")
                    yield (
                        b.pk,
                        status,
                        2,
                        0 if status == "failing" else (1 if bad else 2),
                        "ResourceNotFoundException" if bad else "",
                        "secret-not-found" if bad else "",
                        details[status],
                        now - timedelta(minutes=SWEEP_MINUTES * n),
                    )

        n_snapshots = _copy(
            "secrets_app_healthsnapshot",
            [
                "binding_id",
                "status",
                "pods_expected",
                "pods_mounted",
                "last_error",
                "diagnosis_code",
                "details",
                "taken_at",
            ],
            snapshot_rows(),
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "engineers": [u.username for u in req_users],
        "approvers": [u.username for u in appr_users],
        "clusters": [c.name for c in cls],
        "namespaces": [namespace_name(i) for i in range(NAMESPACES)],
        "health_namespaces": health_namespaces(),
        "binding_ids": [made[0].pk, made[-1].pk],
        "pending_ids": [r.pk for r in pending],
        "counts": {
            "bindings": len(made),
            "binding_secrets": len(secrets),
            "requests": len(reqs) + len(pending),
            "sweeps": n_sweeps,
            "snapshots": n_snapshots,
        },
    }


def reset_pool():
    """The approval pool pending again: an earlier run's approvals undone."""
    from secrets_app.models import AccessRequest, Decision, RequestState

    pool = AccessRequest.objects.filter(justification=POOL_JUSTIFICATION)
    Decision.objects.filter(request__in=pool).delete()
    pool.update(state=RequestState.PENDING, decided_at=None)
    return pool


def reuse(*, password: str) -> dict:
    """The plan of an already seeded database, its approval pool pending again
    and the bench users' password set to this run's."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from secrets_app.models import Binding, Cluster

    User = get_user_model()
    with transaction.atomic():
        users = User.objects.filter(username__regex=r"^(engineer|approver)-")
        users.update(password=make_password(password))
        names = sorted(users.values_list("username", flat=True))
        pool = reset_pool()
        ids = Binding.objects.order_by("pk").values_list("pk", flat=True)
    return {
        "engineers": [n for n in names if n.startswith("engineer-")],
        "approvers": [n for n in names if n.startswith("approver-")],
        "clusters": sorted(Cluster.objects.values_list("name", flat=True)),
        "namespaces": [namespace_name(i) for i in range(NAMESPACES)],
        "health_namespaces": health_namespaces(),
        "binding_ids": [ids.first(), ids.last()],
        "pending_ids": sorted(pool.values_list("pk", flat=True)),
        "counts": {"bindings": ids.count(), "pending": pool.count()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", required=True, help="where to write the plan (JSON)")
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--bindings", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=24, help="snapshots kept per binding")
    parser.add_argument("--pool", type=int, default=1500, help="pending requests to approve")
    parser.add_argument("--engineers", type=int, default=40)
    parser.add_argument("--approvers", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="keep the data, reset the pool")
    args = parser.parse_args()
    password = os.environ["BENCH_PASSWORD"]

    import django

    django.setup()
    start = time.perf_counter()
    if args.reuse:
        plan = reuse(password=password)
        plan["seconds"] = round(time.perf_counter() - start, 1)
        Path(args.plan).write_text(json.dumps(plan))
        print(f"reused: {plan['counts']['bindings']} bindings, pool of {plan['counts']['pending']}")
        return
    plan = seed(
        clusters=args.clusters,
        bindings=args.bindings,
        history=args.history,
        pool=args.pool,
        requesters=args.engineers,
        approvers=args.approvers,
        password=password,
    )
    plan["seconds"] = round(time.perf_counter() - start, 1)
    Path(args.plan).write_text(json.dumps(plan))
    print(
        "seeded in {:.0f} s: {}".format(
            plan["seconds"], ", ".join(f"{v} {k}" for k, v in plan["counts"].items())
        )
    )


if __name__ == "__main__":
    main()
