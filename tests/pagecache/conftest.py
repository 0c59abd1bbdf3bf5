"""The page cache's tests share the mount-health fixtures: a cluster served by
the loopback fake Kubernetes API and an engineer's client."""

from tests.support.health import engineer, kube_cluster, web
from tests.support.kube import fake

__all__ = ["engineer", "fake", "kube_cluster", "web"]
