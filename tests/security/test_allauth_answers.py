"""allauth's answers as its spec (merged into /api/schema/) documents them (issue 13):
the fuzzing holds them to it; these are the cases it found, asserted plainly."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

API = "/_allauth/app/v1"


def test_without_a_pending_login_2fa_says_not_authenticated_as_false() -> None:
    response = Client().post(f"{API}/auth/2fa/authenticate", {}, content_type="application/json")
    assert response.status_code == 401
    body = response.json()
    assert body["meta"]["is_authenticated"] is False  # allauth itself sent null
    assert {"id": "login_by_code"} in body["data"]["flows"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/account/providers"),
        ("get", "/auth/sessions"),
        ("post", "/account/authenticators/totp"),
        ("get", "/account/authenticators/recovery-codes"),
    ],
)
def test_anonymous_401s_are_allauths_not_authenticated_answer_as_documented(
    method: str, path: str
) -> None:
    from meetnow.schema import _AUTH_OR_REAUTH_401
    from tests.meetnow.test_schema import _schema

    response = getattr(Client(), method)(f"{API}{path}", content_type="application/json")
    assert response.status_code == 401
    body = response.json()
    assert body["meta"]["is_authenticated"] is False
    assert "flows" in body["data"]
    documented = _schema()["paths"][f"{API}{path}"][method]["responses"]["401"]["$ref"]
    expected = (
        "AllauthAuthenticationOrReauthentication"
        if (f"{API}{path}", method) in _AUTH_OR_REAUTH_401
        else "AllauthAuthentication"
    )
    assert documented == f"#/components/responses/{expected}"
