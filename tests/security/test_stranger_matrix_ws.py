"""The stranger matrix on the WebSocket (issue 13): every object frame, as a stranger.

The frames come from their documentation (``chat/ws_frames.py``, the ``WsClientFrame``
union in ``/api/schema/``): every client frame type whose schema names a conversation
or a call is an object frame and needs a row in ``FRAMES``, or
``test_every_object_frame_has_a_row`` fails. For each one, in-process with the
in-memory channel layer:

1. a stranger (signed in, unrelated) sends it about the owner's conversation or call:
   the answer is ``not_found`` (an ack with status 404 for ``message.send``, an
   ``error`` frame for the others), neither the owner's nor the partner's socket gets
   anything, and no row of any table changed;
2. the same frame from the person it is for reaches the other side, so the refusal came
   from the access check.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter

from accounts.models import User
from chat.calls.services import call_accept, call_invite
from chat.routing import websocket_urlpatterns
from chat.ws_frames import CLIENT_FRAMES
from tests.chat.communicator import WebsocketCommunicator
from tests.factories.chat import make_direct, make_user
from tests.helpers import session_token_for
from tests.security.test_stranger_matrix import changes, snapshot

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)
OFFER = {"type": "offer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host", "sdpMid": "0"}
OBJECT_FIELDS = ("conversation", "call")


@dataclass(frozen=True)
class Frame:
    """How to make the frame's object and the frame; who may send it."""

    # The call's state before the frame: None (no call), "ringing" or "accepted".
    call: str | None
    # Who sends it legitimately: "owner" (the caller, or the sender) or "partner".
    actor: str
    body: dict[str, Any]


FRAMES: dict[str, Frame] = {
    "message.send": Frame(None, "owner", {"client_id": "", "kind": "text", "text": "hi"}),
    "typing": Frame(None, "owner", {}),
    "call.invite": Frame(None, "owner", {"media": "audio", "sdp": OFFER}),
    "call.ringing": Frame("ringing", "partner", {}),
    "call.accept": Frame("ringing", "partner", {"sdp": ANSWER}),
    "call.decline": Frame("ringing", "partner", {}),
    "call.cancel": Frame("ringing", "owner", {}),
    "call.hangup": Frame("accepted", "owner", {}),
    "call.ice": Frame("accepted", "owner", {"candidate": CANDIDATE}),
    "call.sdp": Frame("accepted", "owner", {"sdp": OFFER}),
    "call.renegotiate": Frame("accepted", "owner", {}),
}


def object_frames() -> set[str]:
    """Every documented client frame type that names a conversation or a call."""
    found: set[str] = set()
    for schema in CLIENT_FRAMES.values():
        properties = schema.get("properties", {})
        if any(name in properties for name in OBJECT_FIELDS):
            found.update(properties["type"]["enum"])
    return found


def test_every_object_frame_has_a_row() -> None:
    frames = object_frames()
    assert frames, "no object frames found in chat/ws_frames.py"
    assert not frames - set(FRAMES), (
        f"object frames without a row in FRAMES: {frames - set(FRAMES)}"
    )
    assert not set(FRAMES) - frames, f"rows for frames no longer documented: {set(FRAMES) - frames}"


async def _open(token: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(
        application, "/ws/v1/", headers=[(b"x-session-token", token.encode())]
    )
    connected, _ = await ws.connect(timeout=10)
    assert connected
    assert (await ws.receive_json_from(timeout=10))["type"] == "ready"
    return ws


async def _answer(ws: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The socket's answer to a frame of ``kind``: the ack of a send, else an error."""
    wanted = "message.ack" if kind == "message.send" else "error"
    while True:
        frame: dict[str, Any] = await ws.receive_json_from(timeout=5)
        if frame["type"] == wanted:
            return frame


async def _quiet(ws: WebsocketCommunicator) -> bool:
    receive_nothing: Callable[..., Awaitable[bool]] = ws.receive_nothing  # asgiref: untyped
    return await receive_nothing(timeout=0.2)


def _setup(row: Frame) -> tuple[dict[str, User], dict[str, str], dict[str, Any]]:
    users = {role: make_user(role) for role in ("owner", "partner", "stranger")}
    direct = make_direct(users["owner"], users["partner"])
    tokens = {role: session_token_for(user) for role, user in users.items()}
    target: dict[str, Any] = {"conversation": str(direct.uuid)}
    if row.call is not None:
        call = call_invite(
            caller=users["owner"], conversation_uuid=direct.uuid, media="audio", offer=OFFER
        )
        if row.call == "accepted":
            call_accept(user=users["partner"], call_uuid=call.uuid, answer=ANSWER)
        target = {"call": str(call.uuid)}
    return users, tokens, target


def test_a_stranger_frame_reaches_no_one_and_changes_nothing() -> None:
    # One test for all frames (fresh people for each): one database flush, not eleven.
    problems: list[str] = []
    for kind in sorted(FRAMES):
        try:
            _check(kind)
        except AssertionError as exc:
            problems.append(f"{kind}: {exc}")
    assert not problems, "\n".join(problems)


def _check(kind: str) -> None:
    row = FRAMES[kind]
    _users, tokens, target = _setup(row)

    def frame() -> dict[str, Any]:
        body = dict(row.body)
        if "client_id" in body:
            body["client_id"] = str(uuid.uuid4())
        return {"type": kind, **target, **body}

    async def scenario() -> None:
        sockets = {role: await _open(token) for role, token in tokens.items()}
        try:
            before = await database_sync_to_async(snapshot)()
            await sockets["stranger"].send_json_to(frame())
            answer = await _answer(sockets["stranger"], kind)
            if kind == "message.send":
                assert (answer["status"], answer["errors"][0]["code"]) == (404, "not_found"), answer
            else:
                assert answer["code"] == "not_found", answer
            for role in ("owner", "partner"):
                assert await _quiet(sockets[role]), f"{role} got a frame"
            assert await database_sync_to_async(changes)(before) == []
            # The same frame from the person it is for reaches the other side.
            actor, peer = ("owner", "partner") if row.actor == "owner" else ("partner", "owner")
            await sockets[actor].send_json_to(frame())
            received = await sockets[peer].receive_json_from(timeout=5)
            assert received["type"] != "error", received
        finally:
            for ws in sockets.values():
                await ws.disconnect()

    run(scenario)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(scenario)()
