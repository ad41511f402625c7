"""Social login from the web client (issue 16): the provider's browser redirect, then the
browser's session handed over as the app's session token (accounts/web_login.py).

A browser (Django's client with cookies and CSRF checks) goes through the same calls as
the page: ``/`` (CSRF token), ``POST /web/social/start``, the provider (a local fake of
Google's token endpoint), allauth's callback, ``POST /web/social/session``; then the app
client continues with the token: ``GET /auth/session``, ``POST /auth/provider/signup``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from accounts.models import User
from tests.accounts.fakes import FakeServer, Received, Reply, fake_server
from tests.accounts.test_social import GoogleIssuer

pytestmark = pytest.mark.django_db

WEB_CLIENT_ID = "web-1234.apps.googleusercontent.com"
WEB_SECRET = "web-client-secret"
APP_CLIENT_ID = "1234-app.apps.googleusercontent.com"


class FakeGoogle:
    """Google's token endpoint: one code, answered with an id_token for ``sub``."""

    def __init__(self, issuer: GoogleIssuer) -> None:
        self.issuer = issuer
        self.sub = "web-user-1"
        self.server: FakeServer | None = None

    def handle(self, request: Received) -> Reply:
        if request.path != "/token" or request.method != "POST":
            return Reply(404)
        form = request.form()
        if form.get("code") != "good-code" or form.get("client_secret") != WEB_SECRET:
            return Reply(400, {"error": "invalid_grant"})
        return Reply(
            200,
            {
                "access_token": "ya29.fake",
                "expires_in": 3600,
                "token_type": "Bearer",
                "id_token": self.issuer.id_token(sub=self.sub, aud=WEB_CLIENT_ID),
            },
        )


@pytest.fixture
def google_web(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    from allauth.socialaccount.providers.google import views

    fake = FakeGoogle(GoogleIssuer())
    with fake_server(fake.handle) as server:
        fake.server = server
        settings.SOCIALACCOUNT_PROVIDERS = {
            **settings.SOCIALACCOUNT_PROVIDERS,
            "google": {
                "APPS": [
                    {"client_id": WEB_CLIENT_ID, "secret": WEB_SECRET, "key": ""},
                    {
                        "client_id": APP_CLIENT_ID,
                        "secret": "",
                        "key": "",
                        "settings": {"hidden": True},
                    },
                ]
            },
        }
        monkeypatch.setattr(
            views.GoogleOAuth2Adapter, "access_token_url", f"{server.base_url}/token"
        )
        monkeypatch.setattr(
            views.GoogleOAuth2Adapter, "authorize_url", "https://accounts.example.test/auth"
        )
        yield fake


class Browser:
    """The web client's page: cookies, and the CSRF token the page carries."""

    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.load()

    def load(self) -> None:
        """Load the page (again, as after the provider sent the browser back)."""
        page = self.client.get("/")
        assert page.status_code == 200
        self.csrf = page.cookies["csrftoken"].value
        body = page.content.decode()
        marker = 'data-social="'
        start = body.index(marker) + len(marker)
        self.social = json.loads(body[start : body.index('"', start)].replace("&quot;", '"'))

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(
            path,
            json.dumps(data or {}),
            content_type="application/json",
            headers={"X-CSRFToken": self.csrf},
        )

    def login_at_provider(self, *, code: str = "good-code") -> Any:
        """Start, then come back from the provider as Google would send the browser."""
        start = self.post("/web/social/start", {"provider": "google"})
        assert start.status_code == 200, start.content
        location = urlsplit(start.json()["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == (
            "https://accounts.example.test/auth"
        )
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert query["client_id"] == WEB_CLIENT_ID
        callback = urlsplit(query["redirect_uri"])
        assert callback.path == "/accounts/google/login/callback/"
        back = self.client.get(callback.path, {"code": code, "state": query["state"]})
        self.load()
        return back


def _pending(body: dict[str, Any]) -> list[str]:
    return [f["id"] for f in body.get("data", {}).get("flows", []) if f.get("is_pending")]


def test_the_page_offers_providers_with_a_web_app(google_web: FakeGoogle) -> None:
    assert Browser().social == [{"id": "google", "name": "Google"}]


def test_no_provider_is_offered_without_a_web_secret(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "google": {"APPS": [{"client_id": APP_CLIENT_ID, "secret": "", "key": ""}]},
    }
    browser = Browser()
    assert browser.social == []
    response = browser.post("/web/social/start", {"provider": "google"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unknown_provider"
    # allauth's callback page stays closed while the provider is not offered here.
    callback = browser.client.get("/accounts/google/login/callback/", {"code": "x", "state": "y"})
    assert callback.status_code == 404


def test_google_from_the_browser_signs_up_then_logs_straight_in(
    google_web: FakeGoogle, app: Any, app_factory: Any, signup_data: dict[str, str]
) -> None:
    browser = Browser()
    back = browser.login_at_provider()
    assert back.status_code == 302
    assert back["Location"] == "/#/social"
    handed = browser.post("/web/social/session")
    assert handed.status_code == 200, handed.content
    token = handed.json()["session_token"]
    # The cookie is gone: the session lives on only as the app's token.
    assert handed.cookies["sessionid"]["max-age"] == 0
    # Only once.
    assert browser.post("/web/social/session").status_code == 400

    app.token = token
    status, body = app.call("GET", "/auth/session")
    assert status == 401, body
    assert _pending(body) == ["provider_signup"]
    status, body = app.call("POST", "/auth/provider/signup", signup_data)
    assert status == 200, body
    assert app.token != token  # rotated on login, as for every app login
    status, me = app.call("GET", "/api/v1/me")
    assert status == 200
    account = SocialAccount.objects.get(provider="google")
    assert account.uid == "web-user-1"
    assert str(account.user.uuid) == me["id"]
    token_request = google_web.server.received[-1]  # type: ignore[union-attr]
    assert token_request.form()["client_id"] == WEB_CLIENT_ID

    # Another browser, the same Google account: logged straight in.
    again = Browser()
    assert again.login_at_provider()["Location"] == "/#/social"
    second = app_factory()
    second.token = again.post("/web/social/session").json()["session_token"]
    status, body = second.call("GET", "/auth/session")
    assert status == 200, body
    assert second.call("GET", "/api/v1/me")[1]["id"] == me["id"]
    assert User.objects.count() == 1


def test_a_refused_code_comes_back_as_an_error_and_logs_nobody_in(
    google_web: FakeGoogle, app: Any
) -> None:
    browser = Browser()
    back = browser.login_at_provider(code="stolen-code")
    assert back.status_code == 302
    location = urlsplit(back["Location"])
    assert location.fragment == "/social"
    assert "error" in parse_qs(location.query)
    handed = browser.post("/web/social/session")
    app.token = handed.json()["session_token"]
    status, body = app.call("GET", "/auth/session")
    assert (status, _pending(body)) == (401, [])
    assert User.objects.count() == 0


def test_the_hand_over_needs_csrf_and_a_social_login_started_here(google_web: FakeGoogle) -> None:
    browser = Browser()
    # Nothing started in this browser.
    response = browser.post("/web/social/session")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "no_social_login"
    # Another site cannot start one (no CSRF token).
    forged = Client(enforce_csrf_checks=True).post(
        "/web/social/start", json.dumps({"provider": "google"}), content_type="application/json"
    )
    assert forged.status_code == 403
    # A state made up by someone else is refused at the callback.
    stranger = Browser()
    stranger.post("/web/social/start", {"provider": "google"})
    back = stranger.client.get(
        "/accounts/google/login/callback/", {"code": "good-code", "state": "made-up"}
    )
    assert back.status_code in (302, 401, 403)
    assert User.objects.count() == 0
