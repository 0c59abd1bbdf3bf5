"""Bindings rendered per second with 1, 3 and 20 secrets per binding.

Run: .venv/bin/python bench/render.py   (target: 500/s with 3 secrets, one core)

Two figures per size: ``render`` is ``render_binding`` on an already
validated spec (what the worker does per pull request), ``validate+render``
adds ``BindingSpec.from_dict`` (what the form preview does per keystroke).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calibration import calibration_ms
from secrets_app.rendering import BindingSpec, render_binding

ACCOUNT = "287796791794"
REGION = "us-west-2"


def spec_data(n_secrets: int) -> dict:
    secrets = []
    for i in range(n_secrets):
        secrets.append(
            {
                "arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/secret-{i}-AbC{i:03d}",
                "alias": f"secret-{i}",
                "jmes": [
                    {"path": "username", "alias": f"user-{i}"},
                    {"path": "pass-word", "alias": f"pass-{i}"},
                ],
                "sync": {
                    "secret_name": f"app-secret-{i}",
                    "keys": [{"object": f"pass-{i}", "key": "password", "env": f"PASS_{i}"}],
                },
            }
        )
    return {
        "cluster": {
            "name": "janus-dev",
            "account_id": ACCOUNT,
            "region": REGION,
            "oidc_issuer": f"oidc.eks.{REGION}.amazonaws.com/id/C0EB4AEEDFD18CBBCBD0686222057E0A",
        },
        "request": {"id": 42, "requester": "alice"},
        "service": "data-access-service",
        "namespace": "deploy",
        "workload": {"name": "data-access-service", "containers": ["app", "sidecar"]},
        "secrets": secrets,
    }


def rate(fn, seconds: float = 2.0) -> float:
    fn()  # warm caches (jmespath's compiled paths, imports)
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def main() -> None:
    print(
        f"calibration: sum(range(10**6)) = {calibration_ms():.0f} ms (an idle modern core: ~10-15)"
    )
    print(f"{'secrets':>8} {'render/s':>10} {'validate+render/s':>18}")
    for n in (1, 3, 20):
        data = spec_data(n)
        spec = BindingSpec.from_dict(data)
        only_render = rate(lambda spec=spec: render_binding(spec))
        full = rate(lambda data=data: render_binding(BindingSpec.from_dict(data)))
        print(f"{n:>8} {only_render:>10.0f} {full:>18.0f}")


if __name__ == "__main__":
    main()
