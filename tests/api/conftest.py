"""API clients for the standing users (token auth, as automation uses it)
and a valid request body (``tests.support.request_bodies.VALID_BODY``)."""

from __future__ import annotations

import copy

import pytest
from rest_framework.test import APIClient

from tests.support.clients import api_client_for
from tests.support.request_bodies import VALID_BODY


@pytest.fixture
def body(cluster):
    return copy.deepcopy(VALID_BODY)


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def as_requester(requester):
    return api_client_for(requester)


@pytest.fixture
def as_other(other_user):
    return api_client_for(other_user)


@pytest.fixture
def as_approver(approver):
    return api_client_for(approver)


@pytest.fixture
def as_admin(admin_user):
    return api_client_for(admin_user)
