"""Every error, REST or Django-level, comes back as one JSON shape with a 4xx."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import user_create
from tests.helpers import session_token_for

pytestmark = [pytest.mark.urls("tests.meetnow.urls"), pytest.mark.django_db]


def assert_shape(response: Any, status: int, code: str, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["errors"], body
    first = body["errors"][0]
    assert first["code"] == code
    assert first["message"]
    if param is not None:
        assert first["param"] == param
    return body


def test_unknown_route_is_a_json_404() -> None:
    assert_shape(Client().get("/no/such/route"), 404, "not_found")
    assert_shape(
        Client().post("/api/v1/nothing-here", data="{}", content_type="application/json"),
        404,
        "not_found",
    )


def test_wrong_method_is_a_json_405() -> None:
    assert_shape(Client().delete("/healthz"), 405, "method_not_allowed")


def test_malformed_json_is_a_400() -> None:
    response = Client().post("/echo", data='{"name": ', content_type="application/json")
    assert_shape(response, 400, "invalid_json")


def test_wrong_content_type_is_a_415() -> None:
    response = Client().post("/echo", data="name=x", content_type="text/plain")
    assert_shape(response, 415, "unsupported_media_type")


def test_validation_errors_name_each_field() -> None:
    response = APIClient().post("/echo", {"name": "much too long", "tags": [1, "x"]}, format="json")
    body = assert_shape(response, 400, "max_length", "name")
    assert {"code": "invalid", "param": "tags.1"} in [
        {"code": e["code"], "param": e["param"]} for e in body["errors"]
    ]
    missing = APIClient().post("/echo", {}, format="json")
    assert_shape(missing, 400, "required", "name")


def test_domain_error_keeps_its_code() -> None:
    response = APIClient().post("/echo", {"name": "taken"}, format="json")
    assert_shape(response, 400, "name_taken", "name")


def test_throttled_request_is_a_429_with_retry_after() -> None:
    client = APIClient()
    assert client.get("/once").status_code == 200
    response = client.get("/once")
    assert_shape(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0


def test_missing_token_is_401_and_bad_token_is_401_invalid_token() -> None:
    assert_shape(APIClient().get("/private"), 401, "not_authenticated")
    assert_shape(APIClient().get("/private", HTTP_X_SESSION_TOKEN="bogus"), 401, "invalid_token")


def test_a_real_session_token_authenticates() -> None:
    user = user_create(phone="+8613800000101", phone_verified=True)
    response = APIClient().get("/private", HTTP_X_SESSION_TOKEN=session_token_for(user))
    assert response.status_code == 200
    assert response.json() == {"user": str(user.uuid)}
