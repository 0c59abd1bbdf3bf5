"""Fixtures of the unused-access and access-review tests: the fake
Kubernetes API for the sweep (``tests.support``), and a small world where
team-deploy owns "deploy" and team-web owns "web" on one cluster."""

from __future__ import annotations

import pytest

from tests.factories import (
    BindingFactory,
    BindingSecretFactory,
    ClusterFactory,
    NamespaceFactory,
    TeamFactory,
    UserFactory,
)
from tests.support.health import kube_cluster
from tests.support.kube import fake

__all__ = ["fake", "kube_cluster"]


@pytest.fixture
def world(db):
    """Two teams, each with a member and two bindings; bob is in team-web."""
    cluster = ClusterFactory(name="janus-dev")
    deploy = TeamFactory(name="team-deploy")
    web = TeamFactory(name="team-web")
    NamespaceFactory(cluster=cluster, name="deploy", team=deploy)
    NamespaceFactory(cluster=cluster, name="web", team=web)
    alice = UserFactory(username="alice", email="alice@example.com")
    alice.groups.add(deploy)
    bob = UserFactory(username="bob", email="bob@example.com")
    bob.groups.add(web)
    bindings = {}
    for ns, names in (("deploy", ("billing", "ledger")), ("web", ("shop", "cart"))):
        for name in names:
            b = BindingFactory(cluster=cluster, namespace=ns, service=name, owner=None)
            BindingSecretFactory(
                binding=b,
                name=f"{name}-db",
                arn=f"arn:aws:secretsmanager:us-west-2:287796791794:secret:{name}-db-AbCdEf",
                alias=f"{name}-db",
            )
            bindings[name] = b
    return {"cluster": cluster, "alice": alice, "bob": bob, "bindings": bindings}
