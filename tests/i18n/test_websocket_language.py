"""The WebSocket speaks the language of its handshake, as the API does (issue 17)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext

from meetnow.lib.i18n import WebSocketLanguageMiddleware
from tests.chat.communicator import WebsocketCommunicator


class _Echo(AsyncJsonWebsocketConsumer):
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
    frame = await ws.receive_json_from(timeout=2)
    await ws.disconnect()
    return frame


def test_a_socket_opened_in_chinese_answers_in_chinese_with_the_same_code():
    chinese = async_to_sync(_answer)(b"zh-CN,zh;q=0.9")
    english = async_to_sync(_answer)(None)
    french = async_to_sync(_answer)(b"fr-FR")
    assert chinese["code"] == english["code"] == "not_found"
    assert chinese["message"] == "未找到。"
    assert english["message"] == french["message"] == "Not found."


def test_the_servers_websocket_router_is_wrapped():
    from meetnow.asgi import router

    assert isinstance(router.application_mapping["websocket"], WebSocketLanguageMiddleware)
