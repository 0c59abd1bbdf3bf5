"""Where things are: the repository's root and the vendored third-party files
the tests read (every file a test reads lives inside the repository)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "tests" / "vendor"
