"""Load benchmark: gunicorn (production settings over loopback HTTP) on
PostgreSQL with 10k bindings and a day of health sweeps for 50 clusters,
driven by locust in a second process while the portal's own health sweep
keeps writing in a third, as production's would.

Run from the repository root (PostgreSQL and Redis on loopback):

    .venv/bin/python bench/load.py --users 20 --duration 60
    .venv/bin/python bench/load.py --users 100 --workers 2 --threads 4 --reuse

It creates the database (default ``portal_load``, dropped first unless
``--reuse``), migrates and seeds it (bench/seed_load.py), starts gunicorn
with the knobs given, starts the background sweeps (bench/sweeper.py: one
cluster every ``--sweep-every`` seconds, against the fake Kubernetes API),
runs locust headless (bench/locustfile.py) and prints, for every page of
issue #19 (bindings list, binding page, health overview, cluster and
namespace, approve), p50, p95, p99, throughput and the server's own mean
over the measured window, against the targets:

- ``--users`` up to 20: the 20-user targets: p95 < 150 ms and p99 < 400 ms
  for every page;
- more than 20: the 100-user targets: p95 < 300 ms for every page and more
  than 50 requests/s served in all;
- at any count: server mean <= 30 ms per page, and no errors (an HTTP error,
  a failed login, a 5xx in the access log, a failed sweep).

It exits 1 when any target is missed. Users think ``--think`` seconds
between requests (``0``: each fires again as soon as it has an answer); they
start as soon as all have logged in, and the window opens ``--warmup``
seconds later. Every process it started is stopped on exit, whatever
happens, and the database dropped unless ``--keep`` or ``--reuse``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench import load_report as report  # noqa: E402 (needs the root on the path)
from bench.calibration import calibration_ms  # noqa: E402

#: The pages' URL route names, as the portal's latency histogram labels them.
ROUTES = report.ROUTES


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


def _wait_file(path: Path, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise SystemExit(f"the sweeper exited with {proc.returncode}: see gunicorn.log")
        if time.monotonic() > deadline:
            raise SystemExit(f"the sweeper was not ready within {timeout:.0f} s")
        time.sleep(0.2)


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


def _clear_queue(redis_url: str) -> None:
    """Drop the pull-request jobs the approvals queued (no worker runs here)."""
    try:
        import redis

        redis.Redis.from_url(redis_url).delete("celery")
    except Exception as error:
        print(f"note: could not clear the Celery queue at {redis_url}: {error}")


def _stop_sweeper(proc: subprocess.Popen | None) -> str:
    """Stop the sweeper between two sweeps; say so if it had died before."""
    if proc is None:
        return ""
    early = proc.poll()
    _stop(proc)
    return f"the sweeper exited early (exit {early})" if early is not None else ""


def print_report(args, header: dict, result: dict) -> None:
    k = header["knobs"]
    print(
        f"\n{args.users} users, think {args.think} s, warm-up {args.warmup:.0f} s, measured "
        f"{header['measured_s']:.1f} s; gunicorn {k['workers']} {k['worker_class']} workers x "
        f"{k['threads']} thread{'s' if k['threads'] > 1 else ''}, keep-alive {k['keep_alive']} s, CONN_MAX_AGE {k['conn_max_age']}, page cache {k['page_cache']}, "
        f"sweep every {k['sweep_every']} s; load average before/after: "
        f"{header['load_before']:.1f} / {header['load_after']:.1f}"
    )
    t = report.Targets(**result["targets"])
    print(
        f"{'endpoint':<17} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'req/s':>6} {'server':>7}  target ({t.label})"
    )

    def ms(x):
        return "-" if x is None else f"{x:.0f}"

    for name, r in result["pages"].items():
        verdict = ""
        if name in ROUTES:
            verdict = "ok" if not r["missed"] else "MISSED: " + ", ".join(r["missed"])
        elif r["errors"]:
            verdict = "errors"
        rps = "-" if r["rps"] is None else f"{r['rps']:.1f}"
        print(
            f"{name:<17} {r['count']:>8} {r['errors']:>6} {ms(r['p50_ms']):>7} "
            f"{ms(r['p95_ms']):>7} {ms(r['p99_ms']):>7} {rps:>6} {ms(r['server_mean_ms']):>7}  "
            f"{verdict}"
        )
    totals = result["totals"]
    print(
        f"{'all (no logins)':<17} {totals['requests']:>8} {'':>6} {'':>7} {'':>7} {'':>7} {totals['rps']:>6.1f}"
    )
    s = result["sweeps"]
    if k["sweep_every"]:
        mean = "-" if s["mean_ms"] is None else f"{s['mean_ms']:.0f} ms"
        print(
            f"sweeps: {s['in_window']} in the measured window (mean {mean} each), "
            f"{s['all']} in the whole run, {s['failed']} failed"
        )
    else:
        print("sweeps: none (--sweep-every 0): no writes during the load")
    if result.get("page_cache"):
        parts = []
        for page, outcome in sorted(result["page_cache"].items()):
            total = sum(outcome.values())
            hits = outcome.get("hit", 0)
            parts.append(f"{page} {hits}/{total} ({100 * hits / max(total, 1):.0f}%)")
        print("page cache hits in the window: " + ", ".join(parts))
    for line in result["errors"][:10]:
        print(f"error: {line}")
    print(
        "ms are as the driver saw them (nearest rank, queueing for a worker included), "
        "for requests finished in the measured window; server: mean ms inside the portal "
        "over that window (its /metrics histogram, read at the window's start and end)."
    )
    print(result["verdict"])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Targets by --users: up to 20, the 20-user targets (p95 < 150 ms, p99 < 400 ms "
        "per page); more, the 100-user ones (p95 < 300 ms per page, > 50 requests/s in all); "
        "always server mean <= 30 ms per page and no errors. Exit 1 when one is missed.",
    )
    parser.add_argument(
        "--users", type=int, default=20, help="<= 20: the 20-user targets; more: the 100-user ones"
    )
    parser.add_argument("--duration", type=float, default=60, help="measured seconds")
    parser.add_argument(
        "--warmup",
        type=float,
        default=10,
        help="seconds between the users' start (all logged in) and the measured window",
    )
    parser.add_argument(
        "--think", default="1-2", help="seconds between a user's requests: 'min-max', or 0 for none"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread"),
        help="gunicorn worker class (default: gthread when --threads > 1, else sync)",
    )
    parser.add_argument(
        "--keep-alive",
        type=int,
        default=2,
        help="seconds gthread workers keep an idle connection open (gunicorn's --keep-alive; "
        "its default 2 is production's). Below the users' think time, a user's next request "
        "can meet a connection the server is closing: a reset, counted as an error",
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="seconds a database connection is kept (DATABASE_CONN_MAX_AGE; production: 60)",
    )
    parser.add_argument(
        "--page-cache", choices=("on", "off"), default="on", help="PORTAL_PAGE_CACHE=true|false"
    )
    parser.add_argument(
        "--sweep-every",
        type=float,
        default=6,
        help="seconds between background health sweeps, one cluster each (production: 50 "
        "clusters every 5 minutes = 6 s); 0: none",
    )
    parser.add_argument("--json", help="write the run's summary here (JSON)")
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
    parser.add_argument("--out", help="folder for locust's CSV files, the logs and the samples")
    args = parser.parse_args()
    if args.worker_class is None:
        args.worker_class = "gthread" if args.threads > 1 else "sync"
    elif args.worker_class == "sync" and args.threads > 1:
        parser.error("a sync worker runs one thread: --threads > 1 needs --worker-class gthread")
    return args


def main() -> None:
    args = parse_args()
    load_before = os.getloadavg()[0]
    calibration = calibration_ms()
    print(f"calibration: sum(range(10**6)) = {calibration:.0f} ms (an idle modern core: ~10-15)")
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
        # No AWS in the bench: the sweeps' version checks would ask it.
        "PORTAL_ROTATION_CHECK": "false",
        "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        "PORTAL_PAGE_CACHE": "true" if args.page_cache == "on" else "false",
        "BENCH_PASSWORD": password,
        "METRICS_TOKEN": secrets.token_urlsafe(24),
        "PROMETHEUS_MULTIPROC_DIR": str(out / "prometheus"),
    }
    (out / "prometheus").mkdir(exist_ok=True)
    for stale in (out / "prometheus").glob("*.db"):
        stale.unlink()
    for stale in ("sweeps.jsonl", "sweeper.ready", "access.log"):
        (out / stale).unlink(missing_ok=True)
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
    server = driver = sweeper = None
    ok = False
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
                "--worker-class",
                args.worker_class,
                "--keep-alive",
                str(args.keep_alive),
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
        sweep_log = out / "sweeps.jsonl"
        if args.sweep_every > 0:
            sweeper = subprocess.Popen(
                [
                    sys.executable,
                    "bench/sweeper.py",
                    "--every",
                    str(args.sweep_every),
                    "--log",
                    str(sweep_log),
                    "--ready",
                    str(out / "sweeper.ready"),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            _wait_file(out / "sweeper.ready", sweeper, timeout=180)
        samples_file = out / "samples.json"
        driver_env = {
            **env,
            "BENCH_PLAN": str(plan_file),
            "BENCH_SAMPLES": str(samples_file),
            "BENCH_USERS": str(args.users),
            "BENCH_DURATION": str(args.duration),
            "BENCH_WARMUP": str(args.warmup),
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
                    f"{int(args.warmup + args.duration + 300)}s",
                    "--stop-timeout",
                    "10",
                ],
                cwd=ROOT,
                env=driver_env,
                stdout=driver_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            driver.wait(timeout=args.warmup + args.duration + 400)
        died = _stop_sweeper(sweeper)
        data = json.loads(samples_file.read_text())
        window = data["window"]
        if "start" not in window:
            raise SystemExit(f"not every user logged in: see {out / 'locust.log'}")
        rows, errors = report.summarise(data["samples"], window)
        metrics = data.get("metrics", {})
        served = report.window_means(metrics.get("start"), metrics.get("end"))
        if not served:
            errors.append("/metrics could not be read at the window's start and end")
        access = (out / "access.log").read_text().splitlines()
        crashes = report.server_errors(access)
        records = (
            [json.loads(line) for line in sweep_log.read_text().splitlines()]
            if sweep_log.exists()
            else []
        )
        sweeps = report.sweep_summary(records, window)
        if died:
            sweeps["failed"] += 1
            sweeps["errors"].append(died)
        seconds = window["end"] - window["start"]
        total_rps = sum(r["count"] for r in rows if r["rps"] is not None) / seconds
        targets = report.targets_for(args.users)
        pages, run = report.judge(
            rows, served, targets, server_errors=crashes, sweeps=sweeps, total_rps=total_rps
        )
        plan = json.loads(plan_file.read_text())
        header = {
            "started_at": datetime.fromtimestamp(window["all_in"], UTC).isoformat(
                timespec="seconds"
            ),
            "calibration_ms": round(calibration, 1),
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "users": args.users,
            "think_s": args.think,
            "warmup_s": args.warmup,
            "measured_s": round(seconds, 2),
            "knobs": {
                "workers": args.workers,
                "threads": args.threads,
                "worker_class": args.worker_class,
                "keep_alive": args.keep_alive,
                "conn_max_age": args.conn_max_age,
                "page_cache": args.page_cache,
                "sweep_every": args.sweep_every,
            },
            "seed": plan.get("counts", {}),
        }
        result = report.summary(
            header=header,
            rows=rows,
            served=served,
            total_rps=total_rps,
            sweeps=sweeps,
            targets=targets,
            pages=pages,
            run=run,
            errors=errors + crashes[:10] + sweeps["errors"][:10],
        )
        result["page_cache"] = report.cache_results(metrics.get("start"), metrics.get("end"))
        print_report(args, header, result)
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
            print(f"summary: {args.json}")
        print(f"files: {out} (locust CSV, samples, sweeps, server and access logs)")
        ok = result["met"]
    finally:
        _stop(driver)
        _stop(sweeper)
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
