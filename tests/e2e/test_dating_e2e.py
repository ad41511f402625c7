"""End to end: a voice clip through the real worker into another user's feed, and a like
that reaches the author's WebSocket (real uvicorn, real Celery worker)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection

from tests.factories.chat import make_user
from tests.factories.media import audio_clip
from tests.helpers import session_token_for


def _until(ws: ClientConnection, kind: str, deadline: float) -> dict[str, Any]:
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {kind} in time"
        frame: dict[str, Any] = json.loads(ws.recv(timeout=remaining))
        if frame["type"] == kind:
            return frame


def test_voice_post_processed_by_the_worker_shows_in_the_feed_and_a_like_reaches_the_author(
    celery_worker: subprocess.Popen[bytes], asgi_server: str, tmp_path: Path
) -> None:
    from websockets.sync.client import connect

    alice, bob = make_user("alice"), make_user("bob")
    alice_h = {"X-Session-Token": session_token_for(alice)}
    bob_h = {"X-Session-Token": session_token_for(bob)}
    clip = audio_clip("m4a", 3.0, tmp_path)
    with httpx.Client(base_url=asgi_server, timeout=10) as http:
        upload = http.post(
            "/api/v1/media",
            data={"purpose": "dating_voice"},
            files={"file": ("clip.m4a", clip, "audio/mp4")},
            headers=alice_h,
        )
        assert upload.status_code == 201, upload.text
        published = http.post(
            "/api/v1/dating/posts",
            json={"voice": upload.json()["uuid"], "caption": "hello from e2e"},
            headers=alice_h,
        )
        assert published.status_code == 201, published.text
        post_id = published.json()["id"]

        # The worker processes the clip; then (and only then) Bob's feed has the post.
        deadline = time.monotonic() + 60
        feed: list[Any] = []
        while time.monotonic() < deadline:
            feed = http.get("/api/v1/dating/posts", headers=bob_h).json()["results"]
            if feed:
                break
            time.sleep(0.2)
        assert [p["id"] for p in feed] == [post_id]
        assert 2900 <= feed[0]["voice"]["duration_ms"] <= 3100
        audio = http.get(feed[0]["voice"]["urls"]["original"], headers=bob_h)
        assert audio.status_code == 200
        assert len(audio.content) > 1000

        ws_base = asgi_server.replace("http://", "ws://")
        with connect(f"{ws_base}/ws/v1/", additional_headers=alice_h) as alice_ws:
            assert json.loads(alice_ws.recv(timeout=5))["type"] == "ready"
            started = time.monotonic()
            liked = http.post(f"/api/v1/dating/posts/{post_id}/like", headers=bob_h)
            assert liked.status_code == 200, liked.text
            event = _until(alice_ws, "dating.post_liked", started + 5.0)
            assert event["post"] == post_id
            assert event["like_count"] == 1
