"""Voice match over the app's socket, in process (Channels' in-memory layer): the
call frames both sockets get, anonymous relays, a dropped socket leaving the queue,
the match both see. The real-server version is tests/e2e/test_voicematch_e2e.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter

from accounts.models import User
from chat.models import Call
from chat.routing import websocket_urlpatterns
from tests.chat.communicator import WebsocketCommunicator
from tests.factories.chat import make_user
from tests.helpers import api_client_for, session_token_for

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)
VM = "/api/v1/dating/voice-match"
OFFER = {"type": "offer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}
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


async def _until(ws: WebsocketCommunicator, kind: str, timeout: float = 3) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


def _post(user: User, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    response = api_client_for(user).post(path, body or {}, format="json")
    return response.status_code, response.json()


def _state(user: User) -> str:
    return str(api_client_for(user).get(VM).json()["state"])


def test_paired_sockets_get_the_call_anonymously_and_then_the_match() -> None:
    alice, bob = make_user("alice"), make_user("bob")

    async def scenario() -> None:
        a, b = await _open(alice), await _open(bob)
        status, body = await database_sync_to_async(_post)(alice, VM)
        assert (status, body["state"]) == (200, "waiting")
        status, body = await database_sync_to_async(_post)(bob, VM)
        assert (status, body["state"]) == (200, "paired")
        session = body["session"]["id"]

        to_a, to_b = await _until(a, "call.accepted"), await _until(b, "call.accepted")
        for frame, role in ((to_a, "offerer"), (to_b, "answerer")):
            assert frame["voice_match"]["session"] == session
            assert frame["voice_match"]["role"] == role
            assert frame["call"]["anonymous"] is True
            assert frame["call"]["caller"] is None
            assert frame["call"]["callee"] is None
            assert frame["call"]["conversation"] is None
            assert frame["sdp"] is None
        call = to_a["call"]["uuid"]

        # The offerer sends its offer; relays never name the sender.
        await a.send_json_to({"type": "call.sdp", "call": call, "sdp": OFFER})
        relayed = await _until(b, "call.sdp")
        assert relayed["sdp"] == OFFER
        assert relayed["from"] is None
        await b.send_json_to({"type": "call.ice", "call": call, "candidate": CANDIDATE})
        ice = await _until(a, "call.ice")
        assert ice["from"] is None
        assert ice["candidate"] == CANDIDATE

        # Both like: both sockets learn of the match, with the other's id.
        status, liked = await database_sync_to_async(_post)(alice, f"{VM}/{session}/like")
        assert (status, liked["match"]) == (200, None)
        status, liked = await database_sync_to_async(_post)(bob, f"{VM}/{session}/like")
        assert liked["match"]["user"]["id"] == str(alice.uuid)
        matched_a, matched_b = await _until(a, "dating.matched"), await _until(b, "dating.matched")
        assert matched_a["user"] == str(bob.uuid)
        assert matched_b["user"] == str(alice.uuid)
        assert matched_a["match"] == matched_b["match"] == liked["match"]["id"]

        await a.send_json_to({"type": "call.hangup", "call": call})
        ended = await _until(b, "call.ended")
        assert ended["call"]["outcome"] == "completed"
        await a.disconnect()
        await b.disconnect()

    run(scenario)


def test_a_dropped_socket_leaves_the_queue_unless_another_stays() -> None:
    alice = make_user("alice")

    async def scenario() -> None:
        phone, tablet = await _open(alice), await _open(alice)
        status, body = await database_sync_to_async(_post)(alice, VM)
        assert (status, body["state"]) == (200, "waiting")
        await tablet.disconnect()
        assert await database_sync_to_async(_state)(alice) == "waiting"  # the phone is live
        await phone.disconnect()
        assert await database_sync_to_async(_state)(alice) == "idle"
        status, body = await database_sync_to_async(_post)(alice, VM)
        assert (status, body["errors"][0]["code"]) == (409, "socket_required")

    run(scenario)


def test_both_sockets_gone_ends_the_voice_match_call_after_the_grace_period(
    settings: Any,
) -> None:
    """Neither socket invited or accepted the call: the call.accepted they were sent is
    enough for their closing to start chat's grace check."""
    settings.MEETNOW_CALL_GRACE = 0.2
    alice, bob = make_user("alice"), make_user("bob")

    def call_state(call_uuid: str) -> tuple[str, str]:
        call = Call.objects.get(uuid=call_uuid)
        return call.state, call.outcome

    async def scenario() -> None:
        a, b = await _open(alice), await _open(bob)
        await database_sync_to_async(_post)(alice, VM)
        await database_sync_to_async(_post)(bob, VM)
        call_uuid = (await _until(a, "call.accepted"))["call"]["uuid"]
        await _until(b, "call.accepted")
        await a.disconnect()
        await b.disconnect()
        state = ("accepted", "")
        for _ in range(40):
            await asyncio.sleep(0.1)
            state = await database_sync_to_async(call_state)(call_uuid)
            if state[0] == "ended":
                break
        assert state == ("ended", "completed")

    run(scenario)
