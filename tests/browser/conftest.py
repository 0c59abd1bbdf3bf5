"""Headless Chromium (Debian's package) driven by Playwright against the live
test server, with a real Celery worker, local git repositories and a fake
cluster. Never `playwright install`: the browser comes from apt."""

import os
import shutil
from pathlib import Path

import pytest

from tests.support.paths import ROOT

# Playwright's sync API leaves an event loop running in the main thread for
# the rest of the session (its fixtures are session-scoped), and Django then
# refuses every ORM call there, in these tests, their teardown and the tests
# after them. The calls are still synchronous and safe: allow them for the
# test process. (Subprocesses that run Django's deploy checks drop it.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = ROOT / "test-artifacts" / "browser"


def chromium_path() -> str | None:
    for candidate in ("/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium package is not installed (bin/test installs it)")
    return {
        **browser_type_launch_args,
        "executable_path": path,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture
def shots():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    count = iter(range(1, 100))

    def shot(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{next(count):02d}-{name}.png"), full_page=True)

    return shot
