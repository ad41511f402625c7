"""An API call with the app's token and no cookie skips the cookie session's middleware
(``meetnow.lib.middleware.token_only_request``). What must hold either way: the
security headers, the language, CSRF where a view is not exempt, and the cookie
session for every request that sends a cookie (the web client, the admin)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client

from tests.factories.chat import make_user
from tests.factories.dating import make_post
from tests.helpers import session_token_for

pytestmark = [pytest.mark.urls("tests.meetnow.urls"), pytest.mark.django_db]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _app(token: str, **headers: Any) -> Client:
    """The mobile app: the token header, no cookie; CSRF enforced as in production."""
    return Client(enforce_csrf_checks=True, HTTP_X_SESSION_TOKEN=token, **headers)


def _like(client: Client, post_uuid: Any) -> Any:
    return client.post(f"/api/v1/dating/posts/{post_uuid}/like")


def _codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def test_a_token_call_answers_with_the_security_headers() -> None:
    author, fan = make_user(), make_user()
    post = make_post(author)
    app = _app(session_token_for(fan))

    liked = _like(app, post.uuid)
    missing = _like(app, uuid.uuid4())

    assert liked.status_code == 200
    assert liked.json()["liked_by_me"] is True
    assert missing.status_code == 404
    for response in (liked, missing):
        for name, value in SECURITY_HEADERS.items():
            assert response[name] == value, name
        assert "Set-Cookie" not in response  # nothing to remember for a token call


@pytest.mark.parametrize(
    ("accept", "language", "message"),
    [("zh-Hans", "zh-hans", "未找到该动态。"), ("en-US", "en", "Post not found.")],
)
def test_a_token_call_speaks_the_language_it_asks_for(
    accept: str, language: str, message: str
) -> None:
    app = _app(session_token_for(make_user()), HTTP_ACCEPT_LANGUAGE=accept)

    response = _like(app, uuid.uuid4())

    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == message
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]


def test_a_token_call_to_a_view_that_is_not_exempt_still_needs_csrf() -> None:
    app = _app(session_token_for(make_user()))

    response = app.post("/api/v1/test-plain-form")

    assert response.status_code == 403
    assert _codes(response) == ["csrf_failed"]


def test_a_token_call_with_a_cookie_and_its_csrf_token_passes_csrf() -> None:
    browser = _app(session_token_for(make_user()))
    browser.cookies[settings.CSRF_COOKIE_NAME] = "a" * 32

    refused = browser.post("/api/v1/test-plain-form")
    allowed = browser.post("/api/v1/test-plain-form", HTTP_X_CSRFTOKEN="a" * 32)

    assert refused.status_code == 403
    assert allowed.status_code == 200


def test_a_token_call_with_a_cookie_still_gets_the_cookie_session() -> None:
    # The web client (a browser) sends its cookies with every call: a session cookie
    # whose session has ended is cleared, whatever the call.
    author, fan = make_user(), make_user()
    post = make_post(author)
    browser = _app(session_token_for(fan))
    browser.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32  # no such session

    response = _like(browser, post.uuid)

    assert response.status_code == 200
    cleared = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cleared.value == ""
    assert cleared["max-age"] == 0


def test_a_token_call_never_signs_in_as_the_cookie_sessions_user() -> None:
    # A browser signed in to a cookie session (the admin) calling the API without a
    # valid token is not that user there: the API knows only the token.
    person = make_user()
    session = SessionStore()
    session[SESSION_KEY] = str(person.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    session.create()
    browser = Client(enforce_csrf_checks=True)
    browser.cookies[settings.SESSION_COOKIE_NAME] = str(session.session_key)

    response = browser.get("/api/v1/me")

    assert response.status_code == 401
