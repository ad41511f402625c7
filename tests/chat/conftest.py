"""Fixtures of the chat tests: three users and their API clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories.chat import make_user
from tests.helpers import api_client_for


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice")


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob")


@pytest.fixture
def carol(db: None) -> User:
    return make_user("carol")


@pytest.fixture
def alice_api(alice: User) -> APIClient:
    return api_client_for(alice)


@pytest.fixture
def bob_api(bob: User) -> APIClient:
    return api_client_for(bob)


@pytest.fixture
def carol_api(carol: User) -> APIClient:
    return api_client_for(carol)
