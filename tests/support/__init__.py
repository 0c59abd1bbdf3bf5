"""What more than one test folder uses, one module per concern.

Fixtures: ``aws`` and ``celery_worker`` are registered for every folder in
tests/conftest.py (``pytest_plugins``); the others (``github``, ``kube``,
``health``) are imported by the conftests of the folders that use them.
Helpers are imported by the tests.

- ``access_requests``: pending requests, approval, the request form's data.
- ``aws``: moto behind the recording proxy, the portal pointed at it.
- ``celery_worker``: a real Celery worker in this process; the broker emptied.
- ``clients``: test clients logged in as a user, or with their API token.
- ``github``: the loopback GitHub, its cluster, signed webhooks.
- ``health``: the health portal's cluster, engineer and broker.
- ``kube``: the fake Kubernetes API; what a sweep of it costs.
- ``paths``: the repository's root and the vendored files (tests/vendor).
- ``production``: a valid environment for the production settings.
- ``subprocesses``: the portal's Python run in a subprocess.
- ``waiting``: polling until something happened elsewhere.
- ``workload``: a binding's objects as its cluster holds them, and taking them away.
"""
