"""A real server closes a session's sockets at once when the session ends (issue 13, 4).

Before, a socket outlived logout for up to one heartbeat (25 s) and kept receiving
messages. Logout and "end this session" happen in the server process; ban and
erasure publish the same close from wherever they run (tests/security covers them
in-process; with Redis they reach every server process).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from allauth.usersessions.models import UserSession
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from accounts.models import User
from tests.factories.chat import make_user
from tests.helpers import session_token_for


def _tracked_token(user: User) -> str:
    token = session_token_for(user)
    UserSession.objects.create(user=user, session_key=token, ip="127.0.0.1")
    return token


def _closed_within(ws: ClientConnection, seconds: float) -> int | None:
    """The close code the server sent within ``seconds`` (fails if still open)."""
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail("the socket is still open")
        try:
            ws.recv(timeout=remaining)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        except TimeoutError:
            pytest.fail("the socket is still open")


def test_logout_and_session_end_close_the_socket_at_once(asgi_server: str) -> None:
    user = make_user()
    logout_token, ended_token, kept_token = (_tracked_token(user) for _ in range(3))
    ended_pk = UserSession.objects.get(session_key=ended_token).pk
    ws_base = asgi_server.replace("http://", "ws://") + "/ws/v1/"

    def socket(token: str) -> ClientConnection:
        return connect(ws_base, additional_headers={"X-Session-Token": token})

    with socket(logout_token) as a, socket(ended_token) as b, socket(kept_token) as c:
        for ws in (a, b, c):
            assert json.loads(ws.recv(timeout=5))["type"] == "ready"
        started = time.monotonic()
        response = httpx.delete(
            f"{asgi_server}/_allauth/app/v1/auth/session",
            headers={"X-Session-Token": logout_token},
        )
        assert response.status_code == 401
        assert _closed_within(a, 3) == 4001
        assert time.monotonic() - started < 3

        started = time.monotonic()
        response = httpx.delete(
            f"{asgi_server}/api/v1/sessions/{ended_pk}", headers={"X-Session-Token": kept_token}
        )
        assert response.status_code == 204, response.text
        assert _closed_within(b, 3) == 4001
        assert time.monotonic() - started < 3

        # The session that did the ending stays connected.
        c.send(json.dumps({"type": "ping"}))
        assert json.loads(c.recv(timeout=5))["type"] == "pong"
