"""End to end: two app sockets on the real ASGI server enter the voice-match queue, are
paired into an anonymous call, talk (offer, answer, ICE relayed), both like, and both
see the match (real uvicorn; the queue is the server's: Redis under CI, in-process
without REDIS_URL)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.factories.chat import make_user
from tests.helpers import session_token_for

VM = "/api/v1/dating/voice-match"
OFFER = {"type": "offer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}


def _until(ws: Any, kind: str, deadline: float) -> dict[str, Any]:
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {kind} in time"
        frame: dict[str, Any] = json.loads(ws.recv(timeout=remaining))
        if frame["type"] == kind:
            return frame


def test_two_sockets_are_paired_talk_anonymously_like_and_both_see_the_match(
    asgi_server: str,
) -> None:
    from websockets.sync.client import connect

    alice, bob = make_user("alice"), make_user("bob")
    alice_h = {"X-Session-Token": session_token_for(alice)}
    bob_h = {"X-Session-Token": session_token_for(bob)}
    ws_url = asgi_server.replace("http://", "ws://") + "/ws/v1/"
    with (
        httpx.Client(base_url=asgi_server, timeout=10) as http,
        connect(ws_url, additional_headers=alice_h) as a,
        connect(ws_url, additional_headers=bob_h) as b,
    ):
        assert json.loads(a.recv(timeout=5))["type"] == "ready"
        assert json.loads(b.recv(timeout=5))["type"] == "ready"
        waiting = http.post(VM, json={}, headers=alice_h)
        assert waiting.status_code == 200, waiting.text
        assert waiting.json()["state"] == "waiting"
        paired = http.post(VM, json={}, headers=bob_h)
        assert paired.json()["state"] == "paired", paired.text
        session = paired.json()["session"]["id"]

        deadline = time.monotonic() + 5
        to_a, to_b = _until(a, "call.accepted", deadline), _until(b, "call.accepted", deadline)
        assert to_a["voice_match"]["role"] == "offerer"
        assert to_b["voice_match"]["session"] == session
        assert to_a["call"]["anonymous"] is True
        assert to_a["call"]["caller"] is None
        assert to_b["call"]["callee"] is None
        call = to_a["call"]["uuid"]
        assert str(alice.uuid) not in json.dumps(to_b)
        assert str(bob.uuid) not in json.dumps(to_a)

        a.send(json.dumps({"type": "call.sdp", "call": call, "sdp": OFFER}))
        offer = _until(b, "call.sdp", deadline)
        assert offer["sdp"] == OFFER
        assert offer["from"] is None
        b.send(json.dumps({"type": "call.sdp", "call": call, "sdp": ANSWER}))
        assert _until(a, "call.sdp", deadline)["sdp"] == ANSWER

        first = http.post(f"{VM}/{session}/like", headers=alice_h)
        assert first.json() == {"liked": True, "match": None}
        second = http.post(f"{VM}/{session}/like", headers=bob_h)
        assert second.json()["match"]["user"]["id"] == str(alice.uuid)
        matched_a = _until(a, "dating.matched", deadline)
        matched_b = _until(b, "dating.matched", deadline)
        assert matched_a["user"] == str(bob.uuid)
        assert matched_b["user"] == str(alice.uuid)
        mine = http.get(f"{VM}/{session}", headers=alice_h).json()
        assert mine["match"]["user"]["nickname"] == "bob"
        matches = http.get("/api/v1/dating/matches", headers=bob_h).json()["results"]
        assert [m["user"]["id"] for m in matches] == [str(alice.uuid)]

        a.send(json.dumps({"type": "call.hangup", "call": call}))
        assert _until(b, "call.ended", deadline)["call"]["outcome"] == "completed"
