"""End to end: sends over the WebSocket on a real server (uvicorn), and a socket that
drops with sends in flight. After reconnecting, the app resends every unacked frame
with its client_id: nothing is lost, nothing is stored twice, and the conversation
keeps the order the frames were sent in."""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

import httpx
from websockets.sync.client import connect

from chat.models import Message
from tests.factories.chat import make_direct, make_user
from tests.helpers import session_token_for

N = 30


def _frame(conversation: str, client_id: str, i: int) -> str:
    return json.dumps(
        {
            "type": "message.send",
            "conversation": conversation,
            "client_id": client_id,
            "text": f"message {i}",
        }
    )


def test_a_socket_dropped_mid_send_loses_and_doubles_nothing(asgi_server: str) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = str(make_direct(alice, bob).uuid)
    alice_token, bob_token = session_token_for(alice), session_token_for(bob)
    ws_url = asgi_server.replace("http://", "ws://") + "/ws/v1/"
    client_ids = [str(uuid.uuid4()) for _ in range(N)]
    cursor = httpx.get(f"{asgi_server}/api/v1/sync", headers={"X-Session-Token": bob_token}).json()[
        "cursor"
    ]

    first: dict[str, dict[str, Any]] = {}
    with connect(ws_url, additional_headers={"X-Session-Token": alice_token}) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "ready"
        for i, client_id in enumerate(client_ids):
            ws.send(_frame(conversation, client_id, i))
        deadline = time.monotonic() + 10
        while len(first) < 3:
            frame = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if frame["type"] == "message.ack":
                first[frame["client_id"]] = frame
        # The network goes away: no close frame, sends still in flight on the server.
        ws.socket.shutdown(socket.SHUT_RDWR)
        ws.socket.close()

    second: dict[str, dict[str, Any]] = {}
    with connect(ws_url, additional_headers={"X-Session-Token": alice_token}) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "ready"
        for i, client_id in enumerate(client_ids):  # every one not known to be stored
            ws.send(_frame(conversation, client_id, i))
        deadline = time.monotonic() + 20
        while len(second) < N:
            frame = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if frame["type"] == "message.ack":
                second[frame["client_id"]] = frame

    assert {a["status"] for a in second.values()} <= {200, 201}
    for client_id, ack in first.items():
        assert ack["status"] == 201
        # Acked before the drop: the resend gets the very same message back.
        assert (second[client_id]["status"], second[client_id]["message"]) == (
            200,
            ack["message"],
        )
    ids = [second[c]["message"]["id"] for c in client_ids]
    assert len(set(ids)) == N
    assert ids == sorted(ids)  # the order the frames were sent in
    stored = list(
        Message.objects.filter(sender=alice).order_by("id").values_list("client_id", "text")
    )
    assert [(str(c), t) for c, t in stored] == [
        (c, f"message {i}") for i, c in enumerate(client_ids)
    ]
    events = httpx.get(
        f"{asgi_server}/api/v1/sync",
        params={"since": cursor},
        headers={"X-Session-Token": bob_token},
    ).json()["events"]
    assert sorted(e["message_id"] for e in events if e["type"] == "message.created") == ids
