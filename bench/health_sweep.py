"""Benchmark: one mount-health sweep + join against the fake Kubernetes API.

For each size, a fresh child process (so that its peak RSS is its own) starts
the fake API in a separate process (so the fake's memory and CPU are not
counted), sweeps it through the real ``kubernetes`` client, joins with the
bindings, and reports. Run from the repository root:

    .venv/bin/python bench/health_sweep.py            # the default sizes
    .venv/bin/python bench/health_sweep.py --sizes 20000:10000

Then the sweep's AWS side (``health/rotation.py``): the current version of
each bound secret, asked of moto (in server mode, on loopback) holding
``--aws-secrets`` secrets, for 10 to 2,000 bound secrets; it prints the
AWS requests each needed (counted on the wire by the tests' recording proxy)
and the time. They grow with the account's secrets / 100, not with the
bindings.
"""

from __future__ import annotations

import argparse
import json
import logging
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


def aws_calls(account_secrets: list[int], bound: list[int]) -> None:
    """Requests and seconds of one sweep's version check, per account size."""
    sys.path.insert(0, str(ROOT))
    # Dummy credentials for moto; nothing here can reach the real AWS.
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    import urllib.request

    import boto3
    from moto.server import ThreadedMotoServer

    from secrets_app.health.rotation import BoundSecret, CurrentVersions
    from secrets_app.integrations.aws import AwsAdapter
    from tests.aws.aws_fakes import RecordingProxy

    print(f"{'account secrets':>15} {'bound':>6} {'AWS requests':>12} {'seconds':>8}")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = RecordingProxy(f"http://{host}:{port}").start()
    try:
        for size in account_secrets:
            reset = urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")
            urllib.request.urlopen(reset, timeout=10).close()
            manager = boto3.client(
                "secretsmanager", endpoint_url=f"http://{host}:{port}", region_name="us-west-2"
            )
            secrets = [
                manager.create_secret(Name=f"bench/{i:05}", SecretString="x")["ARN"]
                for i in range(size)
            ]
            for n in (b for b in bound if b <= size):
                adapter = AwsAdapter(region="us-west-2", endpoint_url=proxy.url)
                wanted = [
                    BoundSecret(arn, arn.split(":secret:")[1][:-7], "f") for arn in secrets[:n]
                ]
                proxy.clear()
                t0 = time.perf_counter()
                found = CurrentVersions(adapter, account="123456789012", region="us-west-2").load(
                    wanted
                )
                seconds = time.perf_counter() - t0
                assert all(v is not None for v in found.values())
                sent = proxy.operations()
                assert "secretsmanager:GetSecretValue" not in sent
                print(f"{size:>15} {n:>6} {len(sent):>12} {seconds:>8.2f}", flush=True)
    finally:
        proxy.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="pods:bindings,...")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--aws-secrets", default="250,2500", help="secrets in the account, comma-separated"
    )
    parser.add_argument("--no-aws", action="store_true", help="skip the AWS part")
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
    if not args.no_aws:
        aws_calls([int(n) for n in args.aws_secrets.split(",")], [10, 200, 2000])


if __name__ == "__main__":
    main()
