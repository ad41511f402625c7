"""Hostile input the outside audit sent (issue 13): clear 4xx in the one shape, never a 500."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from meetnow.lib.middleware import json_depth_exceeds
from tests.factories.chat import make_direct, make_user, send
from tests.helpers import api_client_for

CURSOR_LISTS = [
    "/api/v1/conversations",
    "/api/v1/reports",
    "/api/v1/calls",
    "/api/v1/discover",
    "/api/v1/blocks",
    "/api/v1/security-events",
    "/api/v1/privacy/requests",
    "/api/v1/support/tickets",
]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


BAD_CURSORS = [
    "%%%not-base64",
    _b64("p=abc"),
    _b64("p=99999999999999999999999"),
    _b64("p=2026-13-45T99:00:00"),
    _b64("o=-5&r=1"),
    _b64("r=zz"),
]


@pytest.fixture
def me(db: None) -> User:
    user = make_user()
    other = make_user()
    send(user, make_direct(user, other))
    return user


def _assert_shape(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.content  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["errors"][0]["code"] == code


@pytest.mark.parametrize("path", CURSOR_LISTS)
@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_crafted_cursor_is_a_400_invalid_cursor(me: User, path: str, cursor: str) -> None:
    response = api_client_for(me).get(path, {"cursor": cursor})
    _assert_shape(response, 400, "invalid_cursor")


@pytest.mark.parametrize("path", CURSOR_LISTS)
def test_a_cursor_the_server_gave_still_pages(me: User, path: str) -> None:
    client = api_client_for(me)
    first = client.get(path, {"limit": 1})
    assert first.status_code == 200, first.content
    if first.json()["next"]:
        assert client.get(first.json()["next"]).status_code == 200


DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 3000 + b"1" + b"}" * 3000


@pytest.mark.parametrize(
    "path",
    [
        "/_allauth/app/v1/auth/code/request",
        "/_allauth/app/v1/auth/signup",
        "/_allauth/app/v1/auth/provider/token",
        "/api/v1/conversations",
        "/api/v1/me",
        "/api/v1/devices",
    ],
)
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_deep_json_is_a_400_before_parsing(
    me: User, path: str, body: bytes, content_type: str
) -> None:
    for client in (Client(), api_client_for(me)):
        method = client.patch if path == "/api/v1/me" else client.post
        response = method(path, body, content_type=content_type)
        _assert_shape(response, 400, "json_too_deep")


def test_ordinary_nesting_and_brackets_in_strings_pass(me: User) -> None:
    text = "[" * 100 + "{" * 100
    assert not json_depth_exceeds(b'{"text": "' + text.encode() + b'"}')
    assert not json_depth_exceeds(b'{"a": [[[{"b": [1, 2]}]]]}')
    assert not json_depth_exceeds(b'{"q": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert json_depth_exceeds(b"[" * 33)
    assert not json_depth_exceeds(b"[" * 32 + b"]" * 32)
    client: APIClient = api_client_for(me)
    conversation = make_direct(me, make_user())
    response = client.post(
        f"/api/v1/conversations/{conversation.uuid}/messages",
        {"client_id": "7d3b7c36-9a43-4c1e-8a1f-1a2b3c4d5e6f", "text": text},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["text"] == text
