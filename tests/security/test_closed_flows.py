"""Flows a phone-only app does not offer answer 404 (issue 13, findings 3 and 10)."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories.chat import make_user
from tests.helpers import session_token_for

HEADLESS = "/_allauth/app/v1"
CLOSED_HEADLESS = [
    ("POST", "/auth/password/request", {"email": "victim@example.com"}),
    ("POST", "/auth/password/reset", {"key": "x", "password": "Secret-123456"}),
    ("POST", "/account/password/change", {"new_password": "Secret-123456"}),
    ("POST", "/auth/login", {"phone": "+8613800138000", "password": "x"}),
    ("GET", "/account/email", None),
    ("POST", "/account/email", {"email": "victim@example.com"}),
    ("POST", "/auth/email/verify", {"key": "x"}),
    ("POST", "/auth/email/verify/resend", {}),
    ("POST", "/auth/provider/redirect", {"provider": "google", "process": "login"}),
]
CLOSED_HTML = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/password/reset/key/1-abc/",
    "/accounts/password/change/",
    "/accounts/password/set/",
    "/accounts/email/",
    "/accounts/confirm-email/",
    "/accounts/phone/change/",
    "/accounts/login/code/",
    "/accounts/2fa/",
    "/accounts/sessions/",
    "/accounts/3rdparty/",
    "/accounts/3rdparty/signup/",
    "/accounts/3rdparty/login/error/",
    "/accounts/google/login/",
    "/accounts/google/login/callback/",
    "/accounts/apple/login/callback/",
]


@pytest.fixture
def member(db: None) -> User:
    return make_user()


@pytest.mark.parametrize(("method", "path", "data"), CLOSED_HEADLESS)
@pytest.mark.parametrize("signed_in", [False, True])
def test_email_and_password_flows_of_the_app_api_answer_404(
    member: User, method: str, path: str, data: dict[str, str] | None, signed_in: bool
) -> None:
    headers = {"X-Session-Token": session_token_for(member)} if signed_in else {}
    client = Client()
    if method == "GET":
        response = client.get(HEADLESS + path, headers=headers)
    else:
        response = client.post(
            HEADLESS + path, data, content_type="application/json", headers=headers
        )
    assert response.status_code == 404, response.content
    assert response.json()["errors"][0]["code"] == "not_found"
    assert mail.outbox == []


@pytest.mark.parametrize("path", CLOSED_HTML)
@pytest.mark.parametrize("method", ["get", "post"])
def test_html_account_pages_answer_404(member: User, path: str, method: str) -> None:
    signed_in = Client()
    signed_in.force_login(member)
    for client in (Client(), signed_in):
        response = getattr(client, method)(path, {"email": "victim@example.com"})
        assert response.status_code == 404, (path, response.status_code)
    assert mail.outbox == []


def test_the_flows_the_app_uses_stay_open(db: None) -> None:
    client = Client()
    assert client.get(HEADLESS + "/config").status_code == 200
    response = client.post(
        HEADLESS + "/auth/code/request",
        {"phone": "+8613800138000"},
        content_type="application/json",
    )
    assert response.status_code in (200, 401), response.content
    # allauth can still build links to its (closed) pages.
    assert reverse("account_reset_password") == "/accounts/password/reset/"


@pytest.mark.parametrize(
    "path",
    [
        "/api/schema/",
        "/api/docs/",
        "/api/redoc/",
        "/_allauth/openapi.html",
        "/_allauth/openapi.json",
    ],
)
def test_docs_and_schema_follow_the_setting(db: None, settings: LazySettings, path: str) -> None:
    settings.MEETNOW_API_DOCS = True
    assert Client().get(path).status_code == 200
    settings.MEETNOW_API_DOCS = False
    assert Client().get(path).status_code == 404


def test_production_defaults_close_docs_and_send_no_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    code = (
        "import django, os; django.setup(); from django.conf import settings as s; "
        "print(s.MEETNOW_API_DOCS, s.EMAIL_BACKEND)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "meetnow.settings",
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": "postgres://u@127.0.0.1:1/x",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SMS_BACKEND": "http",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "django.core.mail.backends.dummy.EmailBackend"]
