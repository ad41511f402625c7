"""Small helpers shared by the test suite."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from rest_framework.test import APIClient

from accounts.models import User


def session_token_for(user: User) -> str:
    """A real app session token for ``user``, as allauth's headless login issues it.

    The token is a Django session key; the REST API and the WebSocket accept it in
    the ``X-Session-Token`` header. Use the real login flow where the login itself
    is under test.
    """
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return session.session_key


def api_client_for(user: User) -> APIClient:
    """An API client that authenticates through the real token header."""
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=session_token_for(user))
    return client
