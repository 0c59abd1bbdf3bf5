"""Fixtures for the Django side of mount health (``tests.support``): a
loopback fake Kubernetes API, a cluster pointing at it, an engineer's
client, and the Redis the sweep tasks use."""

from tests.support.health import broker, engineer, kube_cluster, web
from tests.support.kube import fake

__all__ = ["broker", "engineer", "fake", "kube_cluster", "web"]
