"""What bench/load.py reports: the measured window's figures per page, the
server's own means over that window, the background sweeps, and the verdict
against issue #19's targets. Pure functions of what the run recorded (the
driver's samples, two /metrics readings, the access log, the sweeper's log),
so tests can feed them synthetic runs without a server.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

#: Every page issue #19 names, in report order, with its URL route name (the
#: label of the portal's latency histogram in /metrics).
ROUTES = {
    "bindings list": "binding-list",
    "binding page": "binding-detail",
    "health overview": "health-overview",
    "health cluster": "health-cluster",
    "health namespace": "health-namespace",
    "approve": "request-approve",
}
LOGINS = ("login page", "login")
ORDER = (*ROUTES, *LOGINS)
HISTOGRAM = "portal_http_request_duration_seconds"


@dataclass(frozen=True)
class Targets:
    """One run's targets (issue #19, "Done when"); ``None``: not asked."""

    label: str
    p95_ms: float
    p99_ms: float | None
    min_rps: float | None
    server_mean_ms: float = 30


def targets_for(users: int) -> Targets:
    """Up to 20 users: the 20-user targets; more: the 100-user ones."""
    if users <= 20:
        return Targets("20-user", p95_ms=150, p99_ms=400, min_rps=None)
    return Targets("100-user", p95_ms=300, p99_ms=None, min_rps=50)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def in_window(at: float, window: dict) -> bool:
    """A request belongs to the measured window if it finished inside it
    (``at`` is when the driver had the answer)."""
    return window["start"] <= at < window["end"]


def summarise(samples: list, window: dict) -> tuple[list[dict], list[str]]:
    """One row per endpoint for the measured window (logins: all of them,
    they come before it), and the distinct errors counted.

    ``samples``: (finished at, name, ms, failed, message) as the locustfile
    records them. Warm-up requests (before ``window["start"]``) and the
    stragglers after its end are left out, so are their errors: a warm-up
    error still fails the run through the access log's 5xx or the login row.
    """
    seconds = max(window["end"] - window["start"], 1e-9)
    rows, errors = {}, {}
    for at, name, ms, failed, message in samples:
        if not (name in LOGINS or in_window(at, window)):
            continue
        row = rows.setdefault(name, {"times": [], "errors": 0})
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
                "rps": None if name in LOGINS else len(times) / seconds,
            }
        )
    return out, [f"{n} x {m}" for m, n in sorted(errors.items(), key=lambda e: -e[1])]


_SAMPLE = re.compile(r"^(?P<name>\w+)\{(?P<labels>[^}]*)\} (?P<value>\S+)$")


def parse_metrics(text: str) -> dict[str, tuple[float, float]]:
    """The latency histogram's (sum in seconds, count) per route, summed
    over methods and statuses, from a Prometheus text exposition."""
    out: dict[str, tuple[float, float]] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m or m["name"] not in (HISTOGRAM + "_sum", HISTOGRAM + "_count"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m["labels"]))
        route = labels.get("route", "")
        total, count = out.get(route, (0.0, 0.0))
        if m["name"].endswith("_sum"):
            total += float(m["value"])
        else:
            count += float(m["value"])
        out[route] = (total, count)
    return out


def window_means(before: str | None, after: str | None) -> dict[str, float]:
    """Mean server milliseconds per route between two /metrics readings:
    the counters at the window's end minus those at its start, so neither
    the warm-up nor the logins count. Empty when a reading is missing."""
    if not before or not after:
        return {}
    start, end = parse_metrics(before), parse_metrics(after)
    means = {}
    for route, (total, count) in end.items():
        total0, count0 = start.get(route, (0.0, 0.0))
        if count - count0 > 0:
            means[route] = 1000 * (total - total0) / (count - count0)
    return means


def cache_results(before: str | None, after: str | None) -> dict[str, dict[str, int]]:
    """Page-cache outcomes per cached page in the window (hit, miss, bypass),
    from ``portal_page_cache_total`` read at the window's start and end."""
    if not before or not after:
        return {}

    def read(text: str) -> dict[tuple[str, str], float]:
        counts = {}
        for line in text.splitlines():
            m = _SAMPLE.match(line)
            if m and m["name"] == "portal_page_cache_total":
                labels = dict(re.findall(r'(\w+)="([^"]*)"', m["labels"]))
                counts[(labels.get("page", ""), labels.get("result", ""))] = float(m["value"])
        return counts

    start, end = read(before), read(after)
    out: dict[str, dict[str, int]] = {}
    for (page, result), value in end.items():
        out.setdefault(page, {})[result] = int(value - start.get((page, result), 0.0))
    return out


#: gunicorn's default access log: ... "GET /path HTTP/1.1" 200 1234 ...
_ACCESS = re.compile(r'"[A-Z]+ (?P<path>\S+) [^"]*" (?P<status>\d{3}) ')


def server_errors(access_log_lines) -> list[str]:
    """The requests the server answered with a 5xx (the whole run)."""
    out = []
    for line in access_log_lines:
        m = _ACCESS.search(line)
        if m and m["status"].startswith("5"):
            out.append(f"HTTP {m['status']} at {m['path']}")
    return out


def sweep_summary(records: list[dict], window: dict) -> dict:
    """The background sweeps: how many started in the measured window and
    their mean milliseconds; every failed one (whole run) with its error."""
    measured = [r for r in records if in_window(r["started"], window)]
    done = [1000 * r["seconds"] for r in measured if r["ok"]]
    failed = [r for r in records if not r["ok"]]
    return {
        "all": len(records),
        "in_window": len(measured),
        "mean_ms": sum(done) / len(done) if done else None,
        "failed": len(failed),
        "errors": [f"sweep of {r['cluster']}: {r['error']}" for r in failed],
    }


def judge(
    rows: list[dict],
    served: dict[str, float],
    targets: Targets,
    *,
    server_errors: list[str],
    sweeps: dict,
    total_rps: float,
) -> tuple[dict[str, list[str]], list[str]]:
    """What each page missed (page -> reasons, empty when met) and what the
    run as a whole missed (errors, throughput). Met everywhere: both empty."""
    by_name = {r["name"]: r for r in rows}
    pages: dict[str, list[str]] = {}
    for name, route in ROUTES.items():
        row, missed = by_name.get(name), []
        if row is None or not row["count"]:
            pages[name] = ["no requests measured"]
            continue
        if not row["p95"] < targets.p95_ms:
            missed.append(f"p95 {row['p95']:.0f} >= {targets.p95_ms:.0f} ms")
        if targets.p99_ms is not None and not row["p99"] < targets.p99_ms:
            missed.append(f"p99 {row['p99']:.0f} >= {targets.p99_ms:.0f} ms")
        mean = served.get(route)
        if mean is None:
            missed.append("no server mean")
        elif mean > targets.server_mean_ms:
            missed.append(f"server {mean:.1f} > {targets.server_mean_ms:.0f} ms")
        if row["errors"]:
            missed.append(f"{row['errors']} errors")
        pages[name] = missed
    run = []
    failed_logins = sum(r["errors"] for r in rows if r["name"] in LOGINS)
    if failed_logins:
        run.append(f"{failed_logins} failed logins")
    other = sum(r["errors"] for r in rows if r["name"] not in ROUTES and r["name"] not in LOGINS)
    if other:
        run.append(f"{other} errors on other requests")
    if server_errors:
        run.append(f"{len(server_errors)} 5xx in the access log")
    if sweeps.get("failed"):
        run.append(f"{sweeps['failed']} failed sweeps")
    if targets.min_rps is not None and not total_rps > targets.min_rps:
        run.append(f"{total_rps:.1f} requests/s <= {targets.min_rps:.0f}")
    return pages, run


def verdict_line(targets: Targets, pages: dict[str, list[str]], run: list[str]) -> str:
    missed = [f"{name}: {', '.join(why)}" for name, why in pages.items() if why] + run
    goal = f"p95 < {targets.p95_ms:.0f} ms"
    if targets.p99_ms is not None:
        goal += f", p99 < {targets.p99_ms:.0f} ms"
    goal += f", server mean <= {targets.server_mean_ms:.0f} ms per page, no errors"
    if targets.min_rps is not None:
        goal += f", > {targets.min_rps:.0f} requests/s"
    if not missed:
        return f"verdict: MET ({targets.label} targets: {goal})"
    return f"verdict: MISSED ({targets.label} targets: {goal}): " + "; ".join(missed)


def summary(
    *,
    header: dict,
    rows: list[dict],
    served: dict[str, float],
    total_rps: float,
    sweeps: dict,
    targets: Targets,
    pages: dict[str, list[str]],
    run: list[str],
    errors: list[str],
) -> dict:
    """The JSON the integrator builds the README's table from."""

    def number(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 1)

    seen = {r["name"] for r in rows}
    empty = {"count": 0, "errors": 0, "p50": None, "p95": None, "p99": None, "rps": None}
    rows = sorted(
        [*rows, *({"name": n, **empty} for n in ROUTES if n not in seen)],
        key=lambda r: ORDER.index(r["name"]) if r["name"] in ORDER else len(ORDER),
    )
    return {
        **header,
        "targets": asdict(targets),
        "pages": {
            r["name"]: {
                "count": r["count"],
                "errors": r["errors"],
                "p50_ms": number(r["p50"]),
                "p95_ms": number(r["p95"]),
                "p99_ms": number(r["p99"]),
                "rps": number(r["rps"]),
                "server_mean_ms": number(served.get(ROUTES.get(r["name"], ""))),
                "missed": pages.get(r["name"], []),
            }
            for r in rows
        },
        "totals": {
            "requests": sum(r["count"] for r in rows if r["name"] not in LOGINS),
            "errors": sum(r["errors"] for r in rows),
            "rps": number(total_rps),
        },
        "sweeps": {**sweeps, "mean_ms": number(sweeps.get("mean_ms"))},
        "errors": errors,
        "missed": run,
        "met": not run and not any(pages.values()),
        "verdict": verdict_line(targets, pages, run),
    }
