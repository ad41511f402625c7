"""The OpenAPI schema builds without warnings and the docs page is served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient


def test_schema_generates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "openapi: 3" in out.read_text()


@pytest.mark.django_db
def test_schema_and_docs_are_served() -> None:
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/healthz" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def _schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return schema


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def test_one_document_holds_allauth_downloads_and_websocket_frames() -> None:
    schema = _schema()
    paths = schema["paths"]
    # allauth's headless API, merged: the sign-up a newcomer does first is in it.
    assert "post" in paths["/_allauth/app/v1/auth/signup"]
    assert "post" in paths["/_allauth/app/v1/auth/phone/verify"]
    assert paths["/_allauth/app/v1/auth/signup"]["post"]["operationId"]
    # Our own Session and allauth's do not overwrite each other.
    schemas = schema["components"]["schemas"]
    assert {"Session", "AllauthSession", "AllauthUser"} <= set(schemas)
    assert schema["components"]["securitySchemes"]["SessionToken"]["name"] == "X-Session-Token"
    # Every reference points at something in the document.
    for ref in _refs(schema):
        _, _, section, name = ref.split("/", 3)
        assert name in schema["components"][section], ref
    download = paths["/api/v1/media/download/{token}"]["get"]
    assert set(download["responses"]) == {"200", "403", "404"}
    assert {"WsServerFrame", "WsClientFrame", "WsMessageCreated"} <= set(schemas)


def test_every_event_type_the_server_sends_is_documented() -> None:
    from chat.calls import CallEvent
    from chat.events import EventType
    from chat.ws_frames import SERVER_FRAMES

    documented = {
        name for frame in SERVER_FRAMES.values() for name in frame["properties"]["type"]["enum"]
    }
    sent = {
        value
        for kind in (EventType, CallEvent)
        for name, value in vars(kind).items()
        if name.isupper() and isinstance(value, str)
    }
    assert sent <= documented, sent - documented


def test_the_documented_frames_reject_what_the_server_never_sends() -> None:
    from tests.ws_schema import frame_errors

    assert frame_errors({"type": "pong"}) == []
    assert frame_errors({"type": "message.created", "seq": 3}) != []  # no message
    assert frame_errors({"type": "no.such.event"}) != []
    assert frame_errors({"type": "typing", "conversation": "x"}, "WsClientFrame") == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/", "/_allauth/openapi.html"])
def test_docs_pages_load_nothing_from_outside(url: str) -> None:
    import re

    from django.contrib.staticfiles import finders

    page = APIClient().get(url)
    assert page.status_code == 200
    html = page.content.decode()
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links, html
    for link in links:
        assert link.startswith("/"), link  # no CDN, no web fonts: works offline
        assert not link.startswith("//"), link
        if link.startswith("/static/"):
            assert finders.find(link.removeprefix("/static/")), link
