"""End to end: a real ASGI server (uvicorn), two WebSocket clients, a REST send.

One user sends over HTTP; the other's socket receives ``message.created`` within a
second; sync agrees with what the socket delivered.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.factories.chat import make_direct, make_user
from tests.helpers import session_token_for


def _until(ws: ClientConnection, kind: str, deadline: float) -> dict[str, Any]:
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {kind} in time"
        frame: dict[str, Any] = json.loads(ws.recv(timeout=remaining))
        if frame["type"] == kind:
            return frame


def test_two_clients_one_sends_the_other_receives_within_a_second(asgi_server: str) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    alice_token, bob_token = session_token_for(alice), session_token_for(bob)
    ws_base = asgi_server.replace("http://", "ws://")

    # Bob's app sets the header; Alice's client authenticates with a first frame.
    with (
        connect(f"{ws_base}/ws/v1/", additional_headers={"X-Session-Token": bob_token}) as bob_ws,
        connect(f"{ws_base}/ws/v1/") as alice_ws,
    ):
        alice_ws.send(json.dumps({"type": "auth", "token": alice_token}))
        assert json.loads(alice_ws.recv(timeout=5))["type"] == "ready"
        assert json.loads(bob_ws.recv(timeout=5))["type"] == "ready"
        cursor = httpx.get(
            f"{asgi_server}/api/v1/sync", headers={"X-Session-Token": bob_token}
        ).json()["cursor"]

        started = time.monotonic()
        response = httpx.post(
            f"{asgi_server}/api/v1/conversations/{conversation.uuid}/messages",
            json={"client_id": str(uuid.uuid4()), "text": "hello over the wire"},
            headers={"X-Session-Token": alice_token},
        )
        assert response.status_code == 201, response.text
        event = _until(bob_ws, "message.created", started + 1.0)
        assert time.monotonic() - started < 1.0
        assert event["message"]["id"] == response.json()["id"]
        assert event["message"]["text"] == "hello over the wire"
        # The sender's other devices learn it too.
        assert _until(alice_ws, "message.created", time.monotonic() + 1.0)["seq"] > 0

        # Typing travels the other way, and is never stored.
        bob_ws.send(json.dumps({"type": "typing", "conversation": str(conversation.uuid)}))
        typing = _until(alice_ws, "typing", time.monotonic() + 1.0)
        assert typing["user"] == str(bob.uuid)

        synced = httpx.get(
            f"{asgi_server}/api/v1/sync",
            params={"since": cursor},
            headers={"X-Session-Token": bob_token},
        ).json()
        assert [(e["type"], e["seq"]) for e in synced["events"]] == [
            ("message.created", event["seq"])
        ]


def test_bad_token_is_closed_with_4001(asgi_server: str) -> None:
    ws_base = asgi_server.replace("http://", "ws://")
    headers = {"X-Session-Token": "nope"}
    with (
        connect(f"{ws_base}/ws/v1/", additional_headers=headers) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001
