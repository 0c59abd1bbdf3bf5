"""Headless Chromium (Debian's package) driven by Playwright against the live
test server, with a real Celery worker, local git repositories and a fake
cluster. Never `playwright install`: the browser comes from apt."""

import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


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


@pytest.fixture(autouse=True)
def allow_orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; the ORM calls
    the tests make between page actions are still synchronous and safe. Only
    for these tests: the setting must never reach anything else."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def shots():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    count = iter(range(1, 100))

    def shot(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{next(count):02d}-{name}.png"), full_page=True)

    return shot
