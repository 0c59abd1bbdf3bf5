"""Settings of the portal processes a fault test starts (gunicorn, Celery
workers): the test settings, plus what in-process tests set through the
``settings`` fixture, taken from the environment instead."""

from portal.settings.test import *  # noqa: F403
from portal.settings.test import GITHUB_API_URL, env

# The test settings pin GitHub to a closed port; these processes talk to the
# test's loopback FakeGitHub.
GITHUB_API_URL = env.str("GITHUB_API_URL", default=GITHUB_API_URL)
