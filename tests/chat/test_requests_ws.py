"""Message requests (issue 15) over the WebSocket: the same cap and code as HTTP for
``message.send`` (one code path), and no typing across an unanswered request."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter

from chat.models import Message
from chat.routing import websocket_urlpatterns
from tests.chat.communicator import WebsocketCommunicator
from tests.factories.chat import make_request, make_user
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(scenario)()


async def _open(token: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(
        application, "/ws/v1/", headers=[(b"x-session-token", token.encode())]
    )
    connected, _ = await ws.connect(timeout=10)
    assert connected
    assert (await ws.receive_json_from(timeout=10))["type"] == "ready"
    return ws


async def _ack(ws: WebsocketCommunicator) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json_from(timeout=10)
        if frame["type"] == "message.ack":
            return dict(frame)


def test_the_request_cap_over_the_socket_is_the_http_one() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_request(alice, bob)
    token = session_token_for(alice)

    async def scenario() -> list[dict[str, Any]]:
        ws = await _open(token)
        acks = []
        for i in range(4):
            await ws.send_json_to(
                {
                    "type": "message.send",
                    "conversation": str(conversation.uuid),
                    "client_id": str(uuid.uuid4()),
                    "text": f"m{i}",
                }
            )
            acks.append(await _ack(ws))
        await ws.disconnect()
        return acks

    acks = run(scenario)
    assert [a["status"] for a in acks] == [201, 201, 201, 403]
    assert acks[3]["errors"][0]["code"] == "request_limit"
    assert Message.objects.filter(conversation=conversation).count() == 3


def test_no_typing_crosses_an_unanswered_request() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_request(alice, bob)
    tokens = {u.pk: session_token_for(u) for u in (alice, bob)}

    async def scenario() -> None:
        alice_ws, bob_ws = await _open(tokens[alice.pk]), await _open(tokens[bob.pk])
        frame = {"type": "typing", "conversation": str(conversation.uuid)}
        await bob_ws.send_json_to(frame)
        assert await alice_ws.receive_nothing(timeout=0.3)
        await alice_ws.send_json_to(frame)
        assert await bob_ws.receive_nothing(timeout=0.3)
        await alice_ws.disconnect()
        await bob_ws.disconnect()

    run(scenario)
