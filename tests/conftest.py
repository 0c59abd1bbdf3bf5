import os

import pytest
from django.contrib.auth.models import Group

from tests.factories import ClusterFactory, NamespaceFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def no_demo_mode_left_behind():
    """Fails the test that leaves the demo's settings on (an override
    changed inside another one is restored to the outer one's values), not
    the unrelated tests after it that would run the demo's follow-ups."""
    yield
    from django.conf import settings

    assert not getattr(settings, "PORTAL_DEMO", False), "this test left PORTAL_DEMO on"


# Fixtures any folder may use: moto and the portal's side of AWS
# (moto_endpoint, aws_env, moto, clients, proxy, portal_aws, moto_cluster),
# and a real Celery worker (worker). Other shared fixtures are imported by
# the conftests of the folders that use them, from tests/support.
pytest_plugins = ["tests.support.aws", "tests.support.celery_worker"]

# boto3's default credential chain would ask the instance metadata service
# (a link-local address) when no keys are set: keep every test on loopback.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


# The world most tests file in: team-deploy owns the namespace "deploy" of
# janus-dev, and alice (the requester) is in it; mallory is in no team.
DEPLOY_TEAM = "team-deploy"


@pytest.fixture
def cluster(db):
    cluster = ClusterFactory()
    NamespaceFactory(cluster=cluster, name="deploy", team=TeamFactory(name=DEPLOY_TEAM))
    return cluster


@pytest.fixture
def prod_cluster(db):
    return ClusterFactory(name="janus-prod", environment="prod", required_approvals=2)


@pytest.fixture
def approver_group(db, settings):
    group, _ = Group.objects.get_or_create(name=settings.PORTAL_APPROVER_GROUP)
    return group


@pytest.fixture
def requester(db):
    user = UserFactory(username="alice")
    user.groups.add(TeamFactory(name=DEPLOY_TEAM))
    return user


@pytest.fixture
def other_user(db):
    return UserFactory(username="mallory")


@pytest.fixture
def approver(approver_group):
    user = UserFactory(username="pat")
    user.groups.add(approver_group)
    return user


@pytest.fixture
def second_approver(approver_group):
    user = UserFactory(username="quinn")
    user.groups.add(approver_group)
    return user


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)
