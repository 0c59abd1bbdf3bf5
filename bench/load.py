"""Load benchmark: gunicorn (2 workers, production settings over loopback
HTTP) on PostgreSQL with 10k bindings and a day of health sweeps for 50
clusters, driven by locust in a second process.

Run from the repository root (PostgreSQL and Redis on loopback):

    .venv/bin/python bench/load.py --users 20 --duration 60
    .venv/bin/python bench/load.py --reuse      # keep the seeded database

It creates the database (default ``portal_load``, dropped first unless
``--reuse``), migrates and seeds it (bench/seed_load.py), starts gunicorn,
runs locust headless (bench/locustfile.py) and prints p50, p95, p99 and
throughput per endpoint with the errors, against the targets: p95 under
150 ms for the bindings list, a binding page and the health dashboards at
20 users, and no errors. Users think ``--think`` seconds between requests
(``0``: each user fires again as soon as it has an answer). Both servers
are stopped on exit, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_MS = 150
TARGETED = ("bindings list", "binding page", "health overview", "health cluster")
# The portal's own latency histogram, by URL route name: time spent in the
# server, without the wait for a free worker that the driver also sees.
ROUTES = {
    "bindings list": "binding-list",
    "binding page": "binding-detail",
    "health overview": "health-overview",
    "health cluster": "health-cluster",
    "approve": "request-approve",
}
ORDER = (*TARGETED, "approve", "login page", "login")


def calibration_ms() -> float:
    """How fast this machine runs plain Python, to compare figures across hosts."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        sum(range(10**6))
        best = min(best, time.perf_counter() - start)
    return best * 1000


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(samples: list, window: dict) -> tuple[list[dict], list[str]]:
    """One row per endpoint for the measured window, and the distinct errors."""
    start, end = window["start"], window["end"]
    seconds = max(end - start, 1e-9)
    rows, errors = {}, {}
    for at, name, ms, failed, message in samples:
        measured = start <= at <= end + 1 or name.startswith("login")
        if not measured:
            continue
        row = rows.setdefault(name, {"name": name, "times": [], "errors": 0})
        row["times"].append(ms)
        if failed:
            row["errors"] += 1
            errors[message] = errors.get(message, 0) + 1
    out = []
    for name in sorted(rows, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        times = sorted(rows[name]["times"])
        out.append(
            {
                "name": name,
                "count": len(times),
                "errors": rows[name]["errors"],
                "p50": percentile(times, 50),
                "p95": percentile(times, 95),
                "p99": percentile(times, 99),
                "rps": len(times) / seconds if not name.startswith("login") else None,
            }
        )
    return out, [f"{n} x {m}" for m, n in sorted(errors.items(), key=lambda e: -e[1])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_url(database_url: str) -> tuple[str, str]:
    base, name = database_url.rsplit("/", 1)
    return base + "/postgres", name


def database_exists(database_url: str) -> bool:
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _run(cmd: list[str], env: dict, what: str) -> None:
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"{what} failed (exit {result.returncode})")
    if result.stdout.strip():
        print(result.stdout.strip().splitlines()[-1])


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout:.0f} s")


def _stop(proc: subprocess.Popen | None) -> None:
    """Stop a child and its process group (gunicorn's workers, locust's greenlets)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def server_times(base_url: str, token: str) -> dict[str, float]:
    """Mean server-side milliseconds per route from /metrics (whole run)."""
    request = urllib.request.Request(
        base_url + "/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return {}
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        for suffix, into in (("_sum{", sums), ("_count{", counts)):
            head = "portal_http_request_duration_seconds" + suffix
            if line.startswith(head):
                labels, value = line[len(head) :].rsplit("} ", 1)
                route = dict(
                    part.split("=", 1) for part in labels.replace('"', "").split(",") if "=" in part
                ).get("route", "")
                into[route] = into.get(route, 0.0) + float(value)
    return {r: 1000 * sums[r] / counts[r] for r in sums if counts.get(r)}


def _clear_queue(redis_url: str) -> None:
    """Drop the pull-request jobs the approvals queued (no worker runs here)."""
    try:
        import redis

        redis.Redis.from_url(redis_url).delete("celery")
    except Exception as error:
        print(f"note: could not clear the Celery queue at {redis_url}: {error}")


def print_report(
    rows: list[dict], errors: list[str], args, seconds: float, served: dict[str, float]
) -> bool:
    print(
        f"\n{args.users} users, think {args.think} s, measured {seconds:.0f} s "
        f"(gunicorn {args.workers} workers x {args.threads} threads); load average before/after: {args.load_before}"
        f" / {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'endpoint':<17} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'req/s':>6} {'server':>7}  target"
    )
    ok = True
    for r in rows:
        verdict = ""
        if r["name"] in TARGETED:
            met = r["p95"] < TARGET_MS and r["errors"] == 0
            ok &= met
            verdict = "ok" if met else f"MISSED (p95 < {TARGET_MS} ms, no errors)"
        elif r["errors"]:
            ok = False
            verdict = "errors"
        rps = f"{r['rps']:.1f}" if r["rps"] is not None else "-"
        mean = served.get(ROUTES.get(r["name"], ""))
        server = f"{mean:.0f}" if mean is not None else "-"
        print(
            f"{r['name']:<17} {r['count']:>8} {r['errors']:>6} {r['p50']:>7.0f} "
            f"{r['p95']:>7.0f} {r['p99']:>7.0f} {rps:>6} {server:>7}  {verdict}"
        )
    total = sum(r["count"] for r in rows if r["rps"] is not None)
    print(
        f"{'all (no logins)':<17} {total:>8} {'':>6} {'':>7} {'':>7} {'':>7} "
        f"{total / seconds:>6.1f}"
    )
    for line in errors[:10]:
        print(f"error: {line}")
    print(
        "ms are as the driver saw them (nearest rank, queueing for a worker included); "
        "server: mean ms inside the portal (its /metrics histogram, whole run)."
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60, help="measured seconds")
    parser.add_argument(
        "--think", default="1-2", help="seconds between a user's requests: 'min-max', or 0 for none"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (more than 1: the gthread worker class)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_load"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep an already seeded database (its approval pool is reset)",
    )
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--bindings", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--out", help="folder for locust's CSV files and the server log")
    args = parser.parse_args()
    args.load_before = f"{os.getloadavg()[0]:.1f}"

    print(
        f"calibration: sum(range(10**6)) = {calibration_ms():.0f} ms (an idle modern core: ~10-15)"
    )
    out = Path(args.out or tempfile.mkdtemp(prefix="bench-load-"))
    out.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.bench",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "PORTAL_AWS_LOOKUP": "false",
        "BENCH_PASSWORD": password,
        "METRICS_TOKEN": secrets.token_urlsafe(24),
        "PROMETHEUS_MULTIPROC_DIR": str(out / "prometheus"),
    }
    (out / "prometheus").mkdir(exist_ok=True)
    for stale in (out / "prometheus").glob("*.db"):
        stale.unlink()
    plan_file = out / "plan.json"
    reuse = args.reuse and database_exists(args.database_url)
    if not reuse:
        recreate_database(args.database_url)
        _run([sys.executable, "manage.py", "migrate", "-v", "0"], env, "migrate")
    seed_cmd = [
        sys.executable,
        "bench/seed_load.py",
        "--plan",
        str(plan_file),
        "--bindings",
        str(args.bindings),
        "--clusters",
        str(args.clusters),
    ]
    _run(seed_cmd + (["--reuse"] if reuse else []), env, "seeding")

    port = _free_port()
    server = driver = None
    log = open(out / "gunicorn.log", "w")  # noqa: SIM115 (closed in finally)
    try:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--access-logfile",
                str(out / "access.log"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_http(f"http://127.0.0.1:{port}/healthz", server, timeout=120)
        samples_file = out / "samples.json"
        driver_env = {
            **env,
            "BENCH_PLAN": str(plan_file),
            "BENCH_SAMPLES": str(samples_file),
            "BENCH_USERS": str(args.users),
            "BENCH_DURATION": str(args.duration),
            "BENCH_THINK": args.think,
        }
        with open(out / "locust.log", "w") as driver_log:
            driver = subprocess.Popen(
                [
                    str(BIN / "locust"),
                    "-f",
                    "bench/locustfile.py",
                    "--headless",
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(args.users),
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(out / "locust"),
                    "--only-summary",
                    "--run-time",
                    f"{int(args.duration + 300)}s",
                    "--stop-timeout",
                    "10",
                ],
                cwd=ROOT,
                env=driver_env,
                stdout=driver_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            driver.wait(timeout=args.duration + 400)
        data = json.loads(samples_file.read_text())
        if "start" not in data["window"]:
            raise SystemExit(f"not every user logged in: see {out / 'locust.log'}")
        rows, errors = summarise(data["samples"], data["window"])
        seconds = data["window"]["end"] - data["window"]["start"]
        served = server_times(f"http://127.0.0.1:{port}", env["METRICS_TOKEN"])
        ok = print_report(rows, errors, args, seconds, served)
        print(f"files: {out} (locust CSV, server and access logs)")
    finally:
        _stop(driver)
        _stop(server)
        log.close()
        _clear_queue(args.redis_url)
        if not args.keep and not args.reuse:
            try:
                import psycopg
                from psycopg import sql

                admin, name = _admin_url(args.database_url)
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )
            except Exception as error:
                print(f"note: could not drop the benchmark database: {error}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
