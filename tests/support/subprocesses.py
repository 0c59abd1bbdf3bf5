"""The portal's Python run in a subprocess (for what must start fresh, such
as production settings read from the environment)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

from tests.support.paths import ROOT


def run_python(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python *args`` with this interpreter, from the repository's root,
    with exactly ``env``; its output captured as text."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
