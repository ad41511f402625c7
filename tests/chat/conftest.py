"""Fixtures of the chat tests: three users and their API clients."""

from __future__ import annotations

import time

import pytest
from django.test import Client
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


def admin_client_for(user: User) -> Client:
    """A browser client signed in to the admin as ``user``, second factor passed."""
    client = Client()
    client.force_login(user)
    try:
        from staff import mfa  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return client
    session = client.session
    session[mfa.SESSION_MFA_USER] = user.pk
    session[mfa.SESSION_LAST_SEEN] = int(time.time())
    session.save()
    return client
