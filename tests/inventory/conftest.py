"""The inventory's fixtures (``tests.support``): a real Celery worker, the
loopback GitHub for revocations, the fake Kubernetes API for discovery and
drift, and moto for the verification flow."""

from tests.support.aws import (
    aws_env,
    clients,
    moto,
    moto_cluster,
    moto_endpoint,
    portal_aws,
    proxy,
)
from tests.support.celery_worker import worker
from tests.support.github import github, github_cluster
from tests.support.kube import fake

__all__ = [
    "aws_env",
    "clients",
    "fake",
    "github",
    "github_cluster",
    "moto",
    "moto_cluster",
    "moto_endpoint",
    "portal_aws",
    "proxy",
    "worker",
]
