"""Fetch the demo's pages from its SQLite database, as its users see them:
run by test_run_demo.py in a separate process with the demo's settings (the
test suite itself runs on PostgreSQL, so SQLite-only breakage shows here).
Prints one "<status> <url>" line per page."""

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from secrets_app.models import AccessRequest, Binding  # noqa: E402

setup_test_environment()
client = Client()
client.force_login(get_user_model().objects.get(username="pat"))
binding = Binding.objects.order_by("pk").first()
request = AccessRequest.objects.order_by("pk").first()
pages = [
    "/",
    "/requests/",
    request.get_absolute_url(),
    "/approvals/",
    "/bindings/",
    binding.get_absolute_url(),
    "/secrets/",
    "/imports/",
    "/health/",
    f"/health/clusters/{binding.cluster.name}/",
    f"/health/clusters/{binding.cluster.name}/{binding.namespace}/",
    "/api/bindings/",
]
for url in pages:
    print(client.get(url, follow=True).status_code, url)
