"""Benchmark: one mount-health sweep + join against the fake Kubernetes API.

For each size, a fresh child process (so that its peak RSS is its own) starts
the fake API in a separate process (so the fake's memory and CPU are not
counted), sweeps it through the real ``kubernetes`` client, joins with the
bindings, and reports. Run from the repository root:

    .venv/bin/python bench/health_sweep.py            # the default sizes
    .venv/bin/python bench/health_sweep.py --sizes 20000:10000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = "1000:2000,10000:2000,10000:10000,20000:2000,20000:10000"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def child(pods: int, bindings: int, page_size: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from fakes.cluster_gen import targets_from_json
    from secrets_app.health.collector import sweep
    from secrets_app.health.join import evaluate
    from secrets_app.integrations.kube import Timeouts, connect_host

    with tempfile.TemporaryDirectory() as tmp:
        ready, targets_file = os.path.join(tmp, "url"), os.path.join(tmp, "targets.json")
        fake = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fakes.kube_api",
                "--pods",
                str(pods),
                "--bindings",
                str(bindings),
                "--targets-out",
                targets_file,
                "--ready-file",
                ready,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not os.path.exists(ready):
                if fake.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("fake API did not start")
                time.sleep(0.05)
            url = Path(ready).read_text()
            targets = targets_from_json(Path(targets_file).read_text())
            base_rss = _maxrss_mb()
            client = connect_host(url, timeouts=Timeouts(connect=2, read=30))
            runs = []
            for _ in range(2):  # the second run has warm connections and code paths
                t0, c0 = time.perf_counter(), _cpu_s()
                snap = sweep(client, page_size=page_size)
                t1, c1 = time.perf_counter(), _cpu_s()
                health = evaluate(snap, targets)
                t2 = time.perf_counter()
                runs.append((t1 - t0, t2 - t1, c1 - c0))
                del health
            # Pages per kind, namespaces included (one LIST per 500 namespaces,
            # for their team label: the generated cluster has one per 50 bindings).
            expected = sum(max(1, math.ceil(n / page_size)) for n in snap.items_seen.values())
            return {
                "pods": pods,
                "bindings": bindings,
                "requests": snap.requests,
                "expected_requests": expected,
                "sweep_s": [round(r[0], 2) for r in runs],
                "join_s": [round(r[1], 2) for r in runs],
                "sweep_cpu_s": [round(r[2], 2) for r in runs],
                "rss_before_mb": round(base_rss, 1),
                "peak_rss_mb": round(_maxrss_mb(), 1),
            }
        finally:
            fake.terminate()
            fake.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="pods:bindings,...")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pods, bindings = map(int, args.child.split(":"))
        print(json.dumps(child(pods, bindings, args.page_size)))
        return
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(
        f"{'pods':>6} {'bindings':>8} {'requests':>8} {'expected':>8} {'sweep s (1st/2nd)':>18} "
        f"{'cpu s':>10} {'join s':>10} {'RSS before':>10} {'peak RSS MB':>11}"
    )
    for size in args.sizes.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--child", size, "--page-size", str(args.page_size)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        sweep_s = "/".join(f"{s:.2f}" for s in r["sweep_s"])
        join_s = "/".join(f"{s:.2f}" for s in r["join_s"])
        cpu_s = "/".join(f"{s:.2f}" for s in r["sweep_cpu_s"])
        print(
            f"{r['pods']:>6} {r['bindings']:>8} {r['requests']:>8} {r['expected_requests']:>8} "
            f"{sweep_s:>18} {cpu_s:>10} {join_s:>10} {r['rss_before_mb']:>10} "
            f"{r['peak_rss_mb']:>11}",
            flush=True,
        )


if __name__ == "__main__":
    main()
