"""The WebSocket speaks the language of its handshake, as the API does (issue 17)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from django.utils.translation import gettext

from chat.routing import websocket_urlpatterns
from meetnow.lib.i18n import WebSocketLanguageMiddleware
from tests.chat.communicator import WebsocketCommunicator
from tests.factories.chat import make_user
from tests.helpers import session_token_for

# Sockets of other tests in this process may still be closing (their last database
# calls); allow the database for every test here.
pytestmark = pytest.mark.django_db(transaction=True)


class _Echo(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels ships no types
    """Answers each frame with a catalogued message, as the consumers' errors do."""

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json(
            {"type": "error", "code": "not_found", "message": gettext("Not found.")}
        )


async def _answer(language: bytes | None) -> dict[str, Any]:
    headers = [(b"accept-language", language)] if language is not None else []
    ws = WebsocketCommunicator(
        WebSocketLanguageMiddleware(_Echo.as_asgi()), "/ws/v1/", headers=headers
    )
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "ping"})
    frame: dict[str, Any] = await ws.receive_json_from(timeout=5)
    await ws.disconnect()
    return frame


def test_a_socket_opened_in_chinese_answers_in_chinese_with_the_same_code() -> None:
    chinese = async_to_sync(_answer)(b"zh-CN,zh;q=0.9")
    english = async_to_sync(_answer)(None)
    french = async_to_sync(_answer)(b"fr-FR")
    assert chinese["code"] == english["code"] == "not_found"
    assert chinese["message"] == "未找到。"
    assert english["message"] == french["message"] == "Not found."


def test_the_servers_websocket_router_is_wrapped() -> None:
    from meetnow.asgi import router

    assert isinstance(router.application_mapping["websocket"], WebSocketLanguageMiddleware)


async def _call_error(user: Any, language: bytes | None) -> dict[str, Any]:
    token = await database_sync_to_async(session_token_for)(user)
    headers = [(b"x-session-token", token.encode())]
    if language is not None:
        headers.append((b"accept-language", language))
    app = WebSocketLanguageMiddleware(URLRouter(websocket_urlpatterns))
    ws = WebsocketCommunicator(app, "/ws/v1/", headers=headers)
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from())["type"] == "ready"
    await ws.send_json_to({"type": "call.hangup", "call": str(uuid.uuid4())})
    while True:
        frame: dict[str, Any] = await ws.receive_json_from(timeout=5)
        if frame["type"] == "error":
            await ws.disconnect()
            return frame


def test_the_chat_socket_answers_call_errors_in_the_handshakes_language() -> None:
    user = make_user("alice")
    chinese = async_to_sync(_call_error)(user, b"zh-CN,zh;q=0.9")
    english = async_to_sync(_call_error)(user, None)
    assert chinese["code"] == english["code"] == "not_found"
    assert english["message"] == "Call not found."
    assert chinese["message"] == "通话不存在。"
