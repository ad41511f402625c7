"""Call signalling on the socket in-process (Channels' in-memory layer): relays, rules,
bad frames. The real-server version is tests/e2e/test_calls_e2e.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from django.conf import LazySettings

from accounts.models import User
from chat.models import Call, Conversation
from chat.routing import websocket_urlpatterns
from tests.chat.communicator import WebsocketCommunicator
from tests.factories.chat import make_block, make_direct, make_user
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)
OFFER = {"type": "offer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host", "sdpMid": "0"}


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(scenario)()


async def _open(user: User) -> WebsocketCommunicator:
    token = await database_sync_to_async(session_token_for)(user)
    ws = WebsocketCommunicator(
        application, "/ws/v1/", headers=[(b"x-session-token", token.encode())]
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from())["type"] == "ready"
    return ws


async def _until(ws: WebsocketCommunicator, kind: str, timeout: float = 2) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def _quiet(ws: WebsocketCommunicator, wait: float = 0.3) -> None:
    """Nothing arrives within ``wait`` seconds (the socket stays open)."""
    assert await ws.receive_nothing(timeout=wait)


def test_invite_accept_ice_hangup_and_a_third_user_cannot_inject() -> None:
    alice, bob, mallory = make_user("alice"), make_user("bob"), make_user("mallory")
    conversation = make_direct(alice, bob)
    make_direct(mallory, bob)

    async def scenario() -> None:
        a, b, m = await _open(alice), await _open(bob), await _open(mallory)
        await a.send_json_to(
            {
                "type": "call.invite",
                "conversation": str(conversation.uuid),
                "media": "video",
                "sdp": OFFER,
                "ref": "r1",
            }
        )
        created = await _until(a, "call.created")
        assert created["ref"] == "r1"
        call_uuid = created["call"]["uuid"]
        incoming = await _until(b, "call.incoming")
        assert incoming["call"]["uuid"] == call_uuid
        assert incoming["call"]["caller"] == str(alice.uuid)
        assert incoming["call"]["media"] == "video"
        assert incoming["sdp"] == OFFER

        await b.send_json_to({"type": "call.ringing", "call": call_uuid})
        assert (await _until(a, "call.ringing"))["call"] == call_uuid

        # Mallory knows the call id and tries to inject a candidate: refused, nobody gets it.
        await m.send_json_to({"type": "call.ice", "call": call_uuid, "candidate": CANDIDATE})
        error = await _until(m, "error")
        assert (error["code"], error["call"]) == ("not_found", call_uuid)
        await m.send_json_to({"type": "call.hangup", "call": call_uuid})
        assert (await _until(m, "error"))["code"] == "not_found"

        await b.send_json_to({"type": "call.accept", "call": call_uuid, "sdp": ANSWER})
        accepted = await _until(a, "call.accepted")
        assert accepted["sdp"] == ANSWER
        assert "sdp" not in await _until(b, "call.accepted")  # the callee's other devices

        await a.send_json_to({"type": "call.ice", "call": call_uuid, "candidate": CANDIDATE})
        ice = await _until(b, "call.ice")
        assert ice["candidate"] == CANDIDATE
        assert ice["from"] == str(alice.uuid)
        await b.send_json_to({"type": "call.ice", "call": call_uuid, "candidate": None})
        assert (await _until(a, "call.ice"))["candidate"] is None
        await _quiet(m)

        await a.send_json_to({"type": "call.hangup", "call": call_uuid})
        for ws in (a, b):
            seen: list[dict[str, Any]] = []
            while not seen or seen[-1]["type"] != "call.ended":
                seen.append(await ws.receive_json_from(timeout=2))
            ended = seen[-1]
            assert ended["call"]["outcome"] == "completed"
            assert ended["by"] == str(alice.uuid)
            # The call's system message is synced like any message (stored event).
            [message] = [f for f in seen if f["type"] == "message.created"]
            assert message["message"]["system"]["outcome"] == "completed"
            assert message["seq"] > 0
        # The call is over: more candidates are refused.
        await a.send_json_to({"type": "call.ice", "call": call_uuid, "candidate": CANDIDATE})
        assert (await _until(a, "error"))["code"] == "call_ended"
        for ws in (a, b, m):
            await ws.disconnect()

    run(scenario)


def test_decline_cancel_busy_and_blocked_over_the_socket() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    ab, cb = make_direct(alice, bob), make_direct(carol, bob)
    ca = make_direct(carol, alice)

    def invite(conversation: Conversation) -> dict[str, Any]:
        return {"type": "call.invite", "conversation": str(conversation.uuid), "sdp": OFFER}

    async def scenario() -> None:
        a, b, c = await _open(alice), await _open(bob), await _open(carol)
        # Bob declines.
        await a.send_json_to(invite(ab))
        first = (await _until(a, "call.created"))["call"]["uuid"]
        await _until(b, "call.incoming")
        await b.send_json_to({"type": "call.decline", "call": first})
        for ws in (a, b):
            ended = await _until(ws, "call.ended")
            assert (ended["call"]["uuid"], ended["call"]["outcome"]) == (first, "declined")
            assert ended["by"] == str(bob.uuid)
        # Alice calls again and cancels before Bob answers.
        await a.send_json_to(invite(ab))
        second = (await _until(a, "call.created"))["call"]["uuid"]
        await _until(b, "call.incoming")
        # While it rings, Carol calling Bob gets busy.
        await c.send_json_to(invite(cb))
        busy = await _until(c, "call.ended")
        assert busy["call"]["outcome"] == "busy"
        await a.send_json_to({"type": "call.cancel", "call": second})
        assert (await _until(b, "call.ended"))["call"]["outcome"] == "cancelled"
        # Blocked: Alice blocks Carol; Carol's invite is refused, nothing rings.
        await database_sync_to_async(make_block)(alice, carol)
        await c.send_json_to({**invite(ca), "ref": "x"})
        error = await _until(c, "error")
        assert (error["code"], error["ref"]) == ("blocked", "x")
        while not await a.receive_nothing(timeout=0.3):
            assert (await a.receive_json_from())["type"] != "call.incoming"
        for ws in (a, b, c):
            await ws.disconnect()

    run(scenario)


def test_bad_frames_get_error_frames_and_the_socket_stays_open() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)

    async def scenario() -> None:
        a = await _open(alice)
        frames: list[tuple[dict[str, Any], str]] = [
            ({"type": "call.nope"}, "unknown_type"),
            ({"type": "call.invite", "conversation": str(conversation.uuid)}, "invalid_sdp"),
            (
                {
                    "type": "call.invite",
                    "conversation": str(conversation.uuid),
                    "sdp": {"type": "answer", "sdp": "v=0"},
                },
                "invalid_sdp",
            ),
            (
                {
                    "type": "call.invite",
                    "conversation": str(conversation.uuid),
                    "media": ["video"],
                    "sdp": OFFER,
                },
                "invalid_media",
            ),
            ({"type": "call.invite", "conversation": 42, "sdp": OFFER}, "not_found"),
            ({"type": "call.invite", "conversation": {"x": 1}, "sdp": OFFER}, "not_found"),
            (
                {
                    "type": "call.invite",
                    "conversation": str(conversation.uuid),
                    "sdp": {"type": "offer", "sdp": "x" * 70_000},
                },
                "sdp_too_long",
            ),
            ({"type": "call.accept", "call": "not-a-uuid"}, "not_found"),
            ({"type": "call.accept", "call": None}, "not_found"),
            ({"type": "call.hangup"}, "not_found"),
            ({"type": "call.ice", "call": "x", "candidate": "candidate:1"}, "invalid_candidate"),
            ({"type": "call.sdp", "call": "x", "sdp": 3}, "invalid_sdp"),
        ]
        for frame, code in frames:
            await a.send_json_to(frame)
            error = await _until(a, "error")
            assert error["code"] == code, (frame, error)
        await a.send_json_to({"type": "ping"})
        assert (await _until(a, "pong"))["type"] == "pong"
        assert await database_sync_to_async(Call.objects.count)() == 0
        await a.disconnect()

    run(scenario)


def test_both_sockets_gone_ends_the_call_after_the_grace_period(settings: LazySettings) -> None:
    settings.MEETNOW_CALL_GRACE = 0.2
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)

    async def scenario() -> None:
        a, b = await _open(alice), await _open(bob)
        await a.send_json_to(
            {"type": "call.invite", "conversation": str(conversation.uuid), "sdp": OFFER}
        )
        call_uuid = (await _until(a, "call.created"))["call"]["uuid"]
        await b.send_json_to({"type": "call.accept", "call": call_uuid, "sdp": ANSWER})
        await _until(a, "call.accepted")
        await a.disconnect()
        await asyncio.sleep(0.5)
        call = await database_sync_to_async(Call.objects.get)(uuid=call_uuid)
        assert call.state == "accepted"  # Bob is still there
        await b.disconnect()
        for _ in range(40):
            await asyncio.sleep(0.1)
            call = await database_sync_to_async(Call.objects.get)(uuid=call_uuid)
            if call.state == "ended":
                break
        assert (call.state, call.outcome) == ("ended", "completed")

    run(scenario)


def test_floods_are_rate_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    from chat.calls import signalling as call_signalling

    monkeypatch.setattr(call_signalling, "INVITES_PER_MINUTE", 2)
    monkeypatch.setattr(call_signalling, "RELAYS_PER_WINDOW", 3)
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    invite = {"type": "call.invite", "conversation": str(conversation.uuid), "sdp": OFFER}

    async def scenario() -> None:
        a = await _open(alice)
        await a.send_json_to(invite)
        call_uuid = (await _until(a, "call.created"))["call"]["uuid"]
        await a.send_json_to(invite)
        assert (await _until(a, "error"))["code"] == "already_in_call"
        await a.send_json_to(invite)
        assert (await _until(a, "error"))["code"] == "rate_limited"
        ice = {"type": "call.ice", "call": call_uuid, "candidate": CANDIDATE}
        for _ in range(3):
            await a.send_json_to(ice)
        await a.send_json_to(ice)
        assert (await _until(a, "error"))["code"] == "rate_limited"
        await a.disconnect()

    run(scenario)
