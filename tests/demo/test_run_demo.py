"""The one-command demo sets everything up on embedded defaults. Run as a
separate process (as bin/demo does), without Redis: tasks then run inline."""

import json
import os
import sqlite3

import pytest

from tests.support.paths import ROOT
from tests.support.subprocesses import run_python


@pytest.mark.slow
def test_demo_sets_up_every_part_and_stops_cleanly(tmp_path):
    database = tmp_path / "demo.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings.demo",
        "DATABASE_URL": f"sqlite:///{database}",
        "PORTAL_DEMO_DIR": str(tmp_path / "state"),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens: eager mode
        "LOG_LEVEL": "WARNING",
        # The story's rotated secret reads stale at the first sweep.
        "PORTAL_STALE_GRACE_MINUTES": "0",
    }
    result = run_python("manage.py", "run_demo", "--no-serve", env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "eager (no Redis)" in result.stdout
    assert "alice" in result.stdout and "pat-demo-pass" in result.stdout
    # Its emails print as text, not MIME.
    assert "Email to alice@example.com" in result.stdout
    assert "Content-Transfer-Encoding" not in result.stdout

    with sqlite3.connect(database) as db:
        states = dict(db.execute("SELECT service, state FROM secrets_app_accessrequest").fetchall())
        health = {
            row[0] for row in db.execute("SELECT health_status FROM secrets_app_binding").fetchall()
        }
        pulls = db.execute("SELECT COUNT(*) FROM secrets_app_pullrequest").fetchone()[0]
        drifted = {
            row[0] for row in db.execute("SELECT service FROM secrets_app_binding WHERE has_drift")
        }
        versions = {
            service: json.loads(rows)
            for service, rows in db.execute("SELECT service, versions FROM secrets_app_binding")
        }
        stale = {
            row[0]
            for row in db.execute(
                "SELECT service FROM secrets_app_binding WHERE stale_since IS NOT NULL"
            )
        }
        reviews = db.execute(
            "SELECT r.closed_at IS NULL, COUNT(i.id), SUM(i.decision = 'confirmed') "
            "FROM secrets_app_accessreview r JOIN secrets_app_reviewitem i ON i.review_id = r.id "
            "GROUP BY r.id"
        ).fetchall()
        sweeps = dict(
            db.execute(
                "SELECT c.name, COUNT(*) FROM secrets_app_clustersweep s JOIN "
                "secrets_app_cluster c ON c.id = s.cluster_id GROUP BY c.name"
            ).fetchall()
        )
    # The guide's request was approved and its pull requests opened (inline).
    assert states["data-access-service"] == "provisioning"
    assert states["reporting"] == "pending" and states["billing-export"] == "rejected"
    assert pulls == 2
    # The sandbox cluster was swept: bindings in several health states.
    assert {"healthy", "failing", "degraded", "pending"} <= health
    # Drift only where the story has it, and a day of sweeps behind each cluster.
    assert drifted == {"ledger-worker", "checkout-web"}
    # Pods mount what the demo's AWS serves; one secret was rotated under its pods.
    assert stale == {"warehouse-loader"}
    assert {v["state"] for v in versions["warehouse-loader"]} == {"stale"}
    assert {v["state"] for v in versions["payments-api"]} == {"current"}
    assert "Pods run an old version" in result.stdout
    # An access review in progress: one binding confirmed, the rest waiting.
    ((still_open, items, confirmed),) = reviews
    assert still_open and items > 10 and confirmed == 1
    assert sweeps == {"janus-dev": 24, "janus-prod": 24, "sandbox-eu": 24}
    assert (tmp_path / "state" / "repos" / "infra.git").exists()

    # Every main page answers on the demo's SQLite database (the suite runs
    # on PostgreSQL, so a PostgreSQL-only query would otherwise slip through).
    pages = run_python(
        str(ROOT / "tests" / "demo" / "demo_pages.py"),
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert pages.returncode == 0, pages.stderr[-3000:]
    statuses = [line.split(" ", 1) for line in pages.stdout.splitlines()]
    assert len(statuses) == 12 and all(code == "200" for code, _ in statuses), pages.stdout
