"""What the browser journeys share: every user the factories make has one
password, and a journey logs in as a person would, through the form."""

from __future__ import annotations

#: The password of every ``UserFactory`` user (``tests/factories.py``).
PASSWORD = "correct horse battery staple"


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
