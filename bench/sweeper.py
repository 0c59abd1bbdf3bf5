"""The health sweeps that run during a load benchmark (started by
bench/load.py, with gunicorn's settings and database).

Production sweeps 50 clusters every 5 minutes: one sweep every 6 s, each
writing a ClusterSweep, a HealthSnapshot per binding and a bulk update of
the bindings. A load run without those writes would flatter any cache keyed
on the newest sweep, so this process runs the portal's own
``sweep_cluster`` on one seeded cluster after another, every ``--every``
seconds, against the project's fake Kubernetes API (``fakes.kube_api``, in
this process) loaded before each sweep with that cluster's objects
(bench/fleet_fake.py: its bindings' pods in freshly drawn states).

Every cluster's ``kube_api_url`` is pointed at the fake, as the tests'
clusters are; the sweep then reads it through the real ``kubernetes``
client. AWS version checks must be off (``PORTAL_ROTATION_CHECK=false``:
there is no AWS here). Each sweep appends one JSON line to ``--log``:
cluster, started (epoch seconds), seconds, ok, error. ``--ready`` is written
once the targets are loaded and sweeping begins. SIGTERM stops it between
two sweeps. It runs niced (``--nice``): its sweeps, and the fake API that
serves them, would otherwise take a share of the two cores that production's
web pods never give to sweeps.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=float, required=True, help="seconds between sweeps")
    parser.add_argument("--log", required=True, help="JSON lines, one per sweep")
    parser.add_argument("--ready", required=True, help="written when sweeping begins")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--nice",
        type=int,
        default=10,
        help="niceness: production sweeps in a Celery worker on other nodes, not on the "
        "web pods' cores, so here they take the CPU gunicorn leaves (0: compete equally)",
    )
    args = parser.parse_args()
    os.nice(args.nice)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    import django

    django.setup()
    from django.conf import settings

    from bench.fleet_fake import cluster_objects
    from fakes.kube_api import FakeKubeApi
    from secrets_app.health.service import binding_targets, sweep_cluster
    from secrets_app.models import Cluster, Namespace

    if settings.PORTAL_ROTATION_CHECK:
        raise SystemExit("set PORTAL_ROTATION_CHECK=false: the bench has no AWS to ask")
    fake = FakeKubeApi().start()
    Cluster.objects.update(kube_api_url=fake.url)
    clusters = list(Cluster.objects.order_by("name"))
    if not clusters:
        raise SystemExit("no clusters to sweep")
    # Read once, before the load: building a cluster's objects must not add
    # queries production's sweep does not make.
    targets = {c.pk: binding_targets(c) for c in clusters}
    labels: dict[int, dict[str, str]] = {}
    for cluster_id, name, label in Namespace.objects.values_list(
        "cluster_id", "name", "label_team"
    ):
        labels.setdefault(cluster_id, {})[name] = label
    rng = random.Random(args.seed)
    Path(args.ready).write_text(fake.url)

    next_at = time.time()
    with open(args.log, "a") as log:
        for cluster in itertools.cycle(clusters):
            if stop.wait(max(0.0, next_at - time.time())):
                break
            fake.clear()
            fake.clear_requests()
            fake.add_many(
                cluster_objects(
                    targets[cluster.pk],
                    labels.get(cluster.pk, {}),
                    rng,
                    team_label=settings.PORTAL_NAMESPACE_TEAM_LABEL,
                )
            )
            started, t0 = time.time(), time.perf_counter()
            try:
                record = sweep_cluster(cluster.pk)
                ok = record is not None and record.ok
                error = "" if ok else (record.error if record else "cluster gone")
            except Exception as exc:  # reported as a failed sweep, the run goes on
                ok, error = False, f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - t0
            line = {
                "cluster": cluster.name,
                "started": started,
                "seconds": seconds,
                "ok": ok,
                "error": error[:500],
            }
            log.write(json.dumps(line) + "\n")
            log.flush()
            # A sweep longer than the period starts the next one at once,
            # without a burst to catch up.
            next_at = max(next_at + args.every, time.time())
    fake.stop()


if __name__ == "__main__":
    main()
