"""The calibration line every benchmark prints first: how fast this machine
runs plain Python, to compare figures across hosts and moments."""

from __future__ import annotations

import time


def calibration_ms() -> float:
    """Best of five ``sum(range(10**6))``, in milliseconds (an idle modern core: ~10-15)."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        sum(range(10**6))
        best = min(best, time.perf_counter() - start)
    return best * 1000
