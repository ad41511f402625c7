"""The consent gate covers the WebSocket too (P1, P16): same codes as the REST API."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from django.contrib.sessions.backends.cached_db import SessionStore

from chat.consumers import CLOSE_ACCESS_REFUSED
from chat.routing import websocket_urlpatterns
from privacy.consents import gate_session_stamp
from privacy.models import PolicyDocument
from privacy.selectors import documents_current
from privacy.services import consent_record, document_publish
from tests.chat.communicator import WebsocketCommunicator
from tests.factories.chat import make_user
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)


def _publish(kind: str, version: str) -> PolicyDocument:
    document = PolicyDocument.objects.create(
        kind=kind,
        version=version,
        title=f"{kind} {version}",
        body="Text.",
        body_zh_hans="正文。",
        material_change=True,
    )
    return document_publish(document=document)


def _logged_in_token() -> str:
    # A transactional test starts from an empty table: publish the versions first.
    _publish("privacy_policy", "ws-1")
    _publish("user_agreement", "ws-1")
    user = make_user()
    consent_record(user=user, documents=documents_current().values(), ip_address="203.0.113.1")
    token = session_token_for(user)
    gate_session_stamp(session=SessionStore(session_key=token), user_id=user.pk)
    return token


def _first_frame(token: str) -> dict[str, Any]:
    async def scenario() -> dict[str, Any]:
        ws = WebsocketCommunicator(
            application, "/ws/v1/", headers=[(b"x-session-token", token.encode())]
        )
        await ws.connect()
        frame: dict[str, Any] = await ws.receive_output(timeout=3)
        await ws.disconnect()
        return frame

    return async_to_sync(scenario)()


def test_socket_opens_with_consent_and_is_refused_until_a_material_version_is_accepted() -> None:
    token = _logged_in_token()
    ready = _first_frame(token)
    assert ready["type"] == "websocket.send"
    assert '"ready"' in ready["text"]

    _publish("privacy_policy", "ws-2")

    refused = _first_frame(token)
    assert refused["type"] == "websocket.close"
    assert refused["code"] == CLOSE_ACCESS_REFUSED
    assert refused.get("reason") == "reconsent_required"
