"""Single-request server time of the pages issue #19 names, on a seeded
database (bench/seed_load.py), without gunicorn or a load driver.

    DJANGO_SETTINGS_MODULE=portal.settings.bench DATABASE_URL=... \
        .venv/bin/python bench/pages.py --runs 50          # median, p95, queries
    .venv/bin/python bench/pages.py --profile health-cluster  # cProfile, top lines

It drives Django's test Client (the whole middleware stack, the same
templates) in one process, so the figures are one request's server time on an
idle worker: no queueing, no network. It prints the calibration line and the
load average, as bench/load.py does, because both move the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calibration import calibration_ms


def pages(rng: random.Random) -> dict:
    """Page name -> (user kind, a function giving the next URL, method)."""
    from secrets_app.models import AccessRequest, Binding, Cluster, Namespace

    ids = list(Binding.objects.values_list("pk", flat=True))
    clusters = list(Cluster.objects.values_list("name", flat=True))
    spaces = sorted(set(Namespace.objects.values_list("name", flat=True)))
    # Earlier runs (this one's or bench/load.py's) approved the pool: pending again.
    from bench.seed_load import reset_pool

    reset_pool()
    pool = list(
        AccessRequest.objects.filter(state="pending", namespace="onboarding")
        .order_by("-pk")
        .values_list("pk", flat=True)
    )

    def listing():
        choice = rng.random()
        if choice < 0.4:
            return f"/bindings/?environment=dev&page={rng.randint(2, 20)}"
        if choice < 0.7:
            return f"/bindings/?namespace={rng.choice(spaces)}&page={rng.randint(2, 19)}"
        return f"/bindings/?health_status=healthy&page={rng.randint(2, 20)}"

    return {
        "bindings-list": ("engineer", listing, "get"),
        "binding-page": ("engineer", lambda: f"/bindings/{rng.choice(ids)}/", "get"),
        "health-overview": ("engineer", lambda: "/health/", "get"),
        "health-cluster": (
            "engineer",
            lambda: f"/health/clusters/{rng.choice(clusters)}/",
            "get",
        ),
        "health-namespace": (
            "engineer",
            lambda: f"/health/clusters/{rng.choice(clusters)}/{rng.choice(spaces)}/",
            "get",
        ),
        "approve": ("approver", lambda: f"/requests/{pool.pop()}/approve/", "post"),
    }


# Where a function's own time goes, by the file it is in (first match wins).
CATEGORIES = (
    ("SQL (driver, wire)", ("psycopg",)),
    ("ORM", ("django/db/", "json/", "/copy.py")),
    (
        "template",
        (
            "django/template",
            "django/forms",
            "django_tables2",
            "templatetags",
            "fast_rows",
            "web/tables.py",
            "django_filters",
            "django/utils/html",
            "django/utils/safestring",
            "django/utils/formats",
            "django/utils/timesince",
            "django/urls",
            "health/chart",
            "/inspect.py",  # django-tables2's signature() of a render method, per cell
            "html/__init__",
            "django/utils/functional",
            "django/utils/translation",
        ),
    ),
    (
        "middleware",
        (
            "middleware",
            "django/contrib/sessions",
            "django/contrib/auth",
            "axes/",
            "csp/",
            "django_htmx",
            "whitenoise",
            "observability",
            "django/core/handlers",
            "django/core/signing",
            "prometheus_client",
            "django/http",
            "asgiref",
        ),
    ),
)


def _category(filename: str) -> str:
    for name, needles in CATEGORIES:
        if any(n in filename for n in needles):
            return name
    return "view and other"


def budget(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time (tottime) per category. A builtin's time (``~``:
    len, isinstance, str.join...) goes to its callers' categories."""
    out = {name: 0.0 for name, _ in CATEGORIES}
    out["view and other"] = 0.0
    for (filename, _line, _fn), (_cc, _nc, tottime, _ct, callers) in stats.stats.items():
        if filename != "~" or not callers:
            out[_category(filename)] += tottime
            continue
        shares = {caller: entry[2] for caller, entry in callers.items()}
        whole = sum(shares.values()) or 1.0
        for (caller_file, _l, _f), share in shares.items():
            out[_category(caller_file)] += tottime * share / whole
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--only", nargs="*", help="page names")
    parser.add_argument("--profile", help="profile one page (cProfile) instead of timing")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument(
        "--budget",
        action="store_true",
        help="split each page's time into SQL, ORM, template, middleware (cProfile shares)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    User = get_user_model()
    rng = random.Random(19)
    table = pages(rng)
    clients = {}
    for kind, name in (("engineer", "engineer-00"), ("approver", "approver-00")):
        client = Client()
        client.force_login(User.objects.get(username=name))
        clients[kind] = client

    def hit(page):
        kind, url, method = table[page]
        response = getattr(clients[kind], method)(
            url(), {"comment": ""} if method == "post" else None
        )
        assert response.status_code in (200, 302), (page, response.status_code)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        return response

    print(f"calibration: sum(range(10**6)) = {calibration_ms():.0f} ms")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.profile:
        for _ in range(3):
            hit(args.profile)
        profiler = cProfile.Profile()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            profiler.enable()
            hit(args.profile)
            profiler.disable()
            total = (time.perf_counter() - start) * 1000
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        print(
            f"{args.profile}: {total:.1f} ms (profiled), {len(queries)} queries, SQL {sql_ms:.1f} ms"
        )
        for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]:
            print(f"  {float(q['time']) * 1000:6.1f} ms  {q['sql'][:300]}")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        return
    names = args.only or list(table)
    if args.budget:
        heads = [n for n, _ in CATEGORIES] + ["view and other"]
        print("page              " + " ".join(f"{h:>19}" for h in heads) + "  (share of own time)")
        for page in names:
            for _ in range(3):
                hit(page)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                hit(page)
            profiler.disable()
            split = budget(pstats.Stats(profiler))
            total = sum(split.values())
            print(f"{page:<17} " + " ".join(f"{100 * split[h] / total:>18.0f}%" for h in heads))
        return
    print(
        f"{'page':<17} {'runs':>4} {'median':>7} {'p95':>7} {'mean':>7} {'queries':>7} {'SQL ms':>7}"
    )
    for page in names:
        for _ in range(3):
            hit(page)
        times, sqls, counts = [], [], []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                hit(page)
                times.append((time.perf_counter() - start) * 1000)
            counts.append(len(queries))
            sqls.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        print(
            f"{page:<17} {len(times):>4} {statistics.median(times):>7.1f} {p95:>7.1f} "
            f"{statistics.mean(times):>7.1f} {max(counts):>7} {statistics.median(sqls):>7.1f}"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
