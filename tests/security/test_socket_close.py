"""Ending a session closes its sockets at once, not at the next heartbeat (issue 13, 4).

In-process (the consumer and the in-memory layer); tests/e2e/test_session_sockets.py
does the same through a real server.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from django.test import Client

from accounts import services
from accounts.models import User
from chat.consumers import CLOSE_INVALID_SESSION
from chat.routing import websocket_urlpatterns
from tests.chat.communicator import WebsocketCommunicator
from tests.factories.chat import make_user
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)


def _logout(user: User, token: str) -> None:
    response = Client().delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 401


def _signed_in(user: User) -> str:
    """A session token, tracked as allauth's login tracks it (usersessions)."""
    from allauth.usersessions.models import UserSession

    token = session_token_for(user)
    UserSession.objects.create(user=user, session_key=token, ip="127.0.0.1")
    return token


def _end_session(user: User, token: str) -> None:
    from allauth.usersessions.models import UserSession

    session = UserSession.objects.get(session_key=token)
    services.session_end(user=user, session_id=session.pk)


def _ban(user: User, token: str) -> None:
    services.user_ban(user=user)


def _lock_for_erasure(user: User, token: str) -> None:
    from privacy.erasure import account_lock

    account_lock(user=user)


@pytest.mark.parametrize(
    ("end", "others_survive"),
    [(_logout, True), (_end_session, True), (_ban, False), (_lock_for_erasure, False)],
    ids=["logout", "session-end", "ban", "erasure-lock"],
)
def test_ending_a_session_closes_its_socket_at_once(
    settings: object, end: Callable[[User, str], None], others_survive: bool
) -> None:
    settings.CHAT_WS_HEARTBEAT = 3600  # type: ignore[attr-defined]  # no heartbeat helps
    user = make_user()
    token, other_token = _signed_in(user), _signed_in(user)

    async def scenario() -> None:
        ws = WebsocketCommunicator(application, "/ws/v1/", [(b"x-session-token", token.encode())])
        other = WebsocketCommunicator(
            application, "/ws/v1/", [(b"x-session-token", other_token.encode())]
        )
        for socket in (ws, other):
            await socket.connect()
            assert (await socket.receive_json_from())["type"] == "ready"
        await database_sync_to_async(end)(user, token)
        closed = await ws.receive_output(timeout=2)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_INVALID_SESSION)
        if others_survive:
            assert await other.receive_nothing(timeout=0.3)
            await other.disconnect()
        else:
            closed = await other.receive_output(timeout=2)
            assert closed["type"] == "websocket.close"

    async_to_sync(scenario)()
