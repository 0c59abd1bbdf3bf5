"""bench/load.py's report (bench/load_report.py) on synthetic runs, without a
server: the measured window, the server means between two /metrics readings,
the access log's 5xx, the sweeps, and the verdicts against issue #19's
targets. And the fake cluster the bench's sweeps read (bench/fleet_fake.py),
swept by the portal's real collector: mounted pods make a healthy binding."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bench import load_report as report
from bench.fleet_fake import cluster_objects, draw
from fakes.kube_api import FakeKubeApi
from secrets_app.health.collector import sweep
from secrets_app.health.join import evaluate
from secrets_app.health.types import BindingTarget, ExpectedSecret
from secrets_app.integrations.kube import connect_host

WINDOW = {"all_in": 90.0, "start": 100.0, "end": 120.0}


def run(name, times, at=110.0, failed=False):
    return [(at, name, ms, failed, "HTTP 500 at /x" if failed else "") for ms in times]


def test_only_requests_finished_in_the_window_count():
    samples = [
        (95.0, "health overview", 900.0, False, ""),  # warm-up: the first burst
        (100.0, "health overview", 20.0, False, ""),
        (119.9, "health overview", 30.0, False, ""),
        (120.0, "health overview", 800.0, False, ""),  # after the end
        (50.0, "login", 3000.0, False, ""),  # logins come before, still reported
    ]
    rows, errors = report.summarise(samples, WINDOW)
    overview, login = rows
    assert (overview["name"], overview["count"], overview["p99"]) == ("health overview", 2, 30.0)
    assert overview["rps"] == pytest.approx(2 / 20)
    assert (login["name"], login["count"], login["rps"]) == ("login", 1, None)
    assert errors == []


def metrics(**routes: tuple[float, float]) -> str:
    """A /metrics text with (sum, count) per route, split over two statuses."""
    lines = ["# HELP portal_http_request_duration_seconds Time to serve"]
    for route, (total, count) in routes.items():
        route = route.replace("_", "-")
        for status, share in (("200", 0.75), ("302", 0.25)):
            labels = f'method="GET",route="{route}",status="{status}"'
            name = "portal_http_request_duration_seconds"
            lines += [
                f'{name}_bucket{{{labels},le="0.01"}} 0.0',
                f"{name}_sum{{{labels}}} {total * share}",
                f"{name}_count{{{labels}}} {count * share}",
            ]
    lines.append('portal_http_requests_total{method="GET",route="health-overview"} 999.0')
    return "\n".join(lines) + "\n"


def test_server_means_cover_the_window_only():
    # Warm-up: 100 overview requests of 0.2 s each; in the window 40 more of 0.025 s.
    before = metrics(health_overview=(20.0, 100), binding_list=(1.0, 40))
    after = metrics(health_overview=(21.0, 140), binding_list=(1.0, 40), healthz=(0.1, 4))
    means = report.window_means(before, after)
    assert means["health-overview"] == pytest.approx(25.0)
    assert means["healthz"] == pytest.approx(25.0)  # new since the start
    assert "binding-list" not in means  # no request in the window: no mean
    assert report.window_means(None, after) == {}


def test_5xx_in_the_access_log_are_errors():
    lines = [
        '127.0.0.1 - - [01/Dec/2026:18:36:13 +0000] "GET /health/ HTTP/1.1" 200 1514 "-" "x"',
        '127.0.0.1 - - [01/Dec/2026:18:36:14 +0000] "POST /requests/7/approve/ HTTP/1.1" 502 0 "-" "x"',
        '127.0.0.1 - - [01/Dec/2026:18:36:15 +0000] "GET /bindings/?page=500 HTTP/1.1" 404 9 "-" "x"',
    ]
    assert report.server_errors(lines) == ["HTTP 502 at /requests/7/approve/"]


def test_sweeps_in_the_window_and_failures_of_the_whole_run():
    records = [
        {"cluster": "a", "started": 95.0, "seconds": 2.0, "ok": False, "error": "timeout"},
        {"cluster": "b", "started": 101.0, "seconds": 0.5, "ok": True, "error": ""},
        {"cluster": "c", "started": 107.0, "seconds": 0.7, "ok": True, "error": ""},
        {"cluster": "d", "started": 121.0, "seconds": 9.0, "ok": True, "error": ""},
    ]
    s = report.sweep_summary(records, WINDOW)
    assert (s["all"], s["in_window"], s["failed"]) == (4, 2, 1)
    assert s["mean_ms"] == pytest.approx(600.0)
    assert s["errors"] == ["sweep of a: timeout"]


def test_targets_by_user_count():
    assert report.targets_for(20) == report.Targets("20-user", 150, 400, None, 30)
    assert report.targets_for(5).label == "20-user"
    assert report.targets_for(21) == report.Targets("100-user", 300, None, 50, 30)
    assert report.targets_for(100).label == "100-user"


def fast_run(**slow):
    """Every page: 200 requests of 10-109 ms (60 requests/s in all), or the times given."""
    samples = []
    for name in report.ROUTES:
        samples += run(name, slow.get(name.replace(" ", "_"), [10.0 + i % 100 for i in range(200)]))
    samples += run("login", [2000.0] * 20, at=50.0)
    return samples


def judged(samples, users=20, served=None, crashes=(), sweeps=None, rps=None):
    rows, _ = report.summarise(samples, WINDOW)
    served = dict.fromkeys(report.ROUTES.values(), 20.0) if served is None else served
    total = sum(r["count"] for r in rows if r["rps"] is not None) / 20 if rps is None else rps
    return report.judge(
        rows,
        served,
        report.targets_for(users),
        server_errors=list(crashes),
        sweeps=sweeps or {"failed": 0},
        total_rps=total,
    )


def test_a_fast_clean_run_meets_both_sets_of_targets():
    for users in (20, 100):
        pages, run_missed = judged(fast_run(), users=users)
        assert pages == {name: [] for name in report.ROUTES}
        assert run_missed == []
        line = report.verdict_line(report.targets_for(users), pages, run_missed)
        assert line.startswith("verdict: MET")


def test_a_p99_tail_misses_at_20_users_but_not_at_100():
    tail = [10.0] * 98 + [500.0] * 2  # p95 10 ms, p99 500 ms
    pages, _ = judged(fast_run(health_cluster=tail), users=20)
    assert pages["health cluster"] == ["p99 500 >= 400 ms"]
    pages, _ = judged(fast_run(health_cluster=tail), users=100)
    assert pages["health cluster"] == []


def test_p95_limits_differ_by_user_count():
    slow = [200.0] * 100
    assert judged(fast_run(approve=slow), users=20)[0]["approve"] == ["p95 200 >= 150 ms"]
    assert judged(fast_run(approve=slow), users=100)[0]["approve"] == []


def test_server_mean_over_30_ms_or_missing_misses():
    served = dict.fromkeys(report.ROUTES.values(), 20.0)
    served["health-namespace"] = 30.5
    del served["request-approve"]
    pages, _ = judged(fast_run(), served=served)
    assert pages["health namespace"] == ["server 30.5 > 30 ms"]
    assert pages["approve"] == ["no server mean"]
    assert pages["bindings list"] == []


def test_a_page_without_requests_misses():
    samples = [s for s in fast_run() if s[1] != "health namespace"]
    pages, _ = judged(samples)
    assert pages["health namespace"] == ["no requests measured"]


def test_any_error_fails_the_run():
    errors = fast_run() + run("binding page", [10.0], failed=True)
    assert judged(errors)[0]["binding page"] == ["1 errors"]
    logins = fast_run() + run("login", [10.0], at=50.0, failed=True)
    assert judged(logins)[1] == ["1 failed logins"]
    assert judged(fast_run(), crashes=["HTTP 502 at /health/"])[1] == ["1 5xx in the access log"]
    assert judged(fast_run(), sweeps={"failed": 2})[1] == ["2 failed sweeps"]


def test_100_users_must_serve_more_than_50_requests_per_second():
    assert judged(fast_run(), users=100, rps=50.0)[1] == ["50.0 requests/s <= 50"]
    assert judged(fast_run(), users=100, rps=50.5)[1] == []
    assert judged(fast_run(), users=20, rps=12.0)[1] == []


def test_the_summary_lists_every_page_with_its_verdict():
    rows, errors = report.summarise([s for s in fast_run() if s[1] != "approve"], WINDOW)
    targets = report.targets_for(20)
    served = {"binding-list": 12.34}
    pages, run_missed = report.judge(
        rows, served, targets, server_errors=[], sweeps={"failed": 0}, total_rps=25.0
    )
    out = report.summary(
        header={"calibration_ms": 12.0},
        rows=rows,
        served=served,
        total_rps=25.0,
        sweeps={"all": 3, "in_window": 2, "mean_ms": 812.345, "failed": 0, "errors": []},
        targets=targets,
        pages=pages,
        run=run_missed,
        errors=errors,
    )
    assert list(out["pages"])[: len(report.ROUTES)] == list(report.ROUTES)
    assert out["pages"]["bindings list"]["server_mean_ms"] == 12.3
    assert out["pages"]["approve"]["count"] == 0
    assert out["pages"]["approve"]["missed"] == ["no requests measured"]
    assert out["totals"]["requests"] == 1000
    assert out["sweeps"]["mean_ms"] == 812.3
    assert out["met"] is False
    assert out["verdict"].startswith("verdict: MISSED (20-user targets")


def target(i: int, ns: str) -> BindingTarget:
    service = f"svc-{i}"
    arn = f"arn:aws:secretsmanager:us-west-2:287796791794:secret:{service}/db-AbC000"
    return BindingTarget(
        id=i,
        namespace=ns,
        service_account=f"{service}-secrets",
        secret_provider_class=f"{service}-secrets",
        workload_kind="Deployment",
        workload_name=service,
        role_arn=f"arn:aws:iam::287796791794:role/c_{ns}_{service}",
        synced_secret_names=(f"{service}-db",),
        secrets=(ExpectedSecret(arn, f"{service}/db", "secret-0"),),
    )


def test_the_bench_cluster_is_swept_as_its_states_say():
    targets = [
        target(1, "payments"),
        target(2, "payments"),
        target(3, "ledger"),
        target(4, "ledger"),
    ]
    states = iter(["mounted", "waiting", "failing", "half"])
    objects = cluster_objects(
        targets, {"payments": "team-payments"}, random.Random(1), states=states
    )
    with FakeKubeApi() as fake:
        fake.add_many(objects)
        with connect_host(fake.url) as kube:
            snap = sweep(kube)
    health = evaluate(snap, targets)
    assert [health[t.id].status.value for t in targets] == [
        "healthy",
        "pending",
        "failing",
        "degraded",
    ]
    assert snap.namespace_labels["payments"] == "team-payments"


def test_drawn_states_are_mostly_mounted():
    rng = random.Random(3)
    drawn = Counter(draw(rng) for _ in range(2000))
    assert drawn["mounted"] > 1700
    assert {"waiting", "failing", "half"} <= set(drawn)


def test_page_cache_outcomes_are_counted_over_the_window():
    before = 'portal_page_cache_total{page="binding-list",result="hit"} 5.0\n'
    after = (
        'portal_page_cache_total{page="binding-list",result="hit"} 12.0\n'
        'portal_page_cache_total{page="binding-list",result="miss"} 3.0\n'
    )
    assert report.cache_results(before, after) == {"binding-list": {"hit": 7, "miss": 3}}
    assert report.cache_results(None, after) == {}
