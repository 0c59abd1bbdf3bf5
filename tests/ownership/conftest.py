"""The ownership tests' fixtures: the fake Kubernetes API (``tests.support``)
the health sweep reads namespaces and workloads from."""

from tests.support.kube import fake

__all__ = ["fake"]
