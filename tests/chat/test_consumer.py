"""The WebSocket consumer in-process (Channels' communicator, in-memory layer)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from django.conf import LazySettings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from chat import services
from chat.consumers import CLOSE_AUTH_REQUIRED, CLOSE_AUTH_TIMEOUT, CLOSE_INVALID_SESSION
from chat.presence import online_user_ids, presence_clear
from chat.routing import websocket_urlpatterns
from tests.chat.communicator import WebsocketCommunicator
from tests.factories.chat import make_direct, make_user
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(scenario)()


def _socket(token: str | None = None) -> WebsocketCommunicator:
    headers = [(b"x-session-token", token.encode())] if token else []
    return WebsocketCommunicator(application, "/ws/v1/", headers=headers)


async def _until(ws: WebsocketCommunicator, kind: str, timeout: float = 2) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


def test_header_auth_and_live_message_after_commit() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(bob)

    async def scenario() -> None:
        ws = _socket(token)
        connected, _ = await ws.connect()
        assert connected
        ready = await ws.receive_json_from()
        assert ready == {"type": "ready", "user": str(bob.uuid)}
        assert await database_sync_to_async(online_user_ids)(user_ids=[bob.pk]) == {bob.pk}
        message, _ = await database_sync_to_async(services.message_send)(
            sender=alice, conversation_uuid=conversation.uuid, client_id=uuid.uuid4(), text="yo"
        )
        event = await _until(ws, "message.created")
        assert event["message"]["id"] == message.id
        assert event["message"]["text"] == "yo"
        assert event["conversation"] == str(conversation.uuid)
        assert event["seq"] > 0
        await ws.disconnect()
        assert await database_sync_to_async(online_user_ids)(user_ids=[bob.pk]) == set()

    run(scenario)


def test_auth_frame_for_clients_without_headers() -> None:
    bob = make_user("bob")
    token = session_token_for(bob)

    async def scenario() -> None:
        ws = _socket()
        await ws.connect()
        await ws.send_json_to({"type": "auth", "token": token})
        assert (await ws.receive_json_from())["type"] == "ready"
        await ws.send_json_to({"type": "ping"})
        assert (await ws.receive_json_from()) == {"type": "pong"}
        await ws.send_to(text_data="not json")
        assert (await ws.receive_json_from())["code"] == "invalid_json"
        await ws.send_json_to({"type": "nope"})
        assert (await ws.receive_json_from())["code"] == "unknown_type"
        await ws.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ({"type": "auth", "token": "not-a-session"}, CLOSE_INVALID_SESSION),
        ({"type": "ping"}, CLOSE_AUTH_REQUIRED),
    ],
)
def test_bad_auth_frames_close_with_a_clear_code(first: dict[str, str], code: int) -> None:
    async def scenario() -> None:
        ws = _socket()
        await ws.connect()
        await ws.send_json_to(first)
        closed = await ws.receive_output(timeout=2)
        assert closed["type"] == "websocket.close"
        assert closed["code"] == code

    run(scenario)


def test_bad_header_token_and_auth_timeout(settings: LazySettings) -> None:
    settings.CHAT_WS_AUTH_TIMEOUT = 0.2

    async def scenario() -> None:
        ws = _socket("bogus")
        await ws.connect()
        closed = await ws.receive_output(timeout=2)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_INVALID_SESSION)
        silent = _socket()
        await silent.connect()
        closed = await silent.receive_output(timeout=2)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_AUTH_TIMEOUT)

    run(scenario)


async def _closed(ws: WebsocketCommunicator) -> int:
    while True:
        output = await ws.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            return int(output["code"])


def test_expired_session_closes_the_socket_at_the_next_heartbeat(settings: LazySettings) -> None:
    settings.CHAT_WS_HEARTBEAT = 0.2
    bob = make_user("bob")
    token = session_token_for(bob)

    async def scenario() -> None:
        ws = _socket(token)
        await ws.connect()
        assert (await ws.receive_json_from())["type"] == "ready"
        assert (await ws.receive_json_from(timeout=2))["type"] == "heartbeat"
        await database_sync_to_async(SessionStore(session_key=token).delete)()
        assert await _closed(ws) == CLOSE_INVALID_SESSION

    run(scenario)


def test_a_client_gone_mid_heartbeat_leaves_no_unretrieved_task_error(
    settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket closes while a heartbeat is being sent (uvicorn raises
    ClientDisconnected): the heartbeat task ends quietly, leaving no exception that
    asyncio would report as "Task exception was never retrieved"."""
    from uvicorn.protocols.utils import ClientDisconnected

    from chat.consumers import ChatConsumer

    settings.CHAT_WS_HEARTBEAT = 0.1
    real_send, real_connect = ChatConsumer.send_json, ChatConsumer.connect
    consumers: list[ChatConsumer] = []

    async def send_json(self: ChatConsumer, content: Any, close: bool = False) -> None:
        if content.get("type") == "heartbeat":
            raise ClientDisconnected
        await real_send(self, content, close)

    async def connect(self: ChatConsumer) -> None:
        consumers.append(self)
        await real_connect(self)

    monkeypatch.setattr(ChatConsumer, "send_json", send_json)
    monkeypatch.setattr(ChatConsumer, "connect", connect)
    bob = make_user("bob")
    token = session_token_for(bob)

    async def scenario() -> BaseException | None:
        ws = _socket(token)
        await ws.connect()
        assert (await ws.receive_json_from())["type"] == "ready"
        [heartbeat] = consumers[0].tasks
        await asyncio.wait_for(asyncio.shield(heartbeat), timeout=5)  # it met the closed socket
        await ws.disconnect()
        return heartbeat.exception()

    assert run(scenario) is None


def test_typing_reaches_other_members_only() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    conversation = make_direct(alice, bob)
    tokens = {u.pk: session_token_for(u) for u in (alice, bob, carol)}

    async def scenario() -> None:
        sockets = {}
        for user in (alice, bob, carol):
            ws = _socket(tokens[user.pk])
            await ws.connect()
            assert (await ws.receive_json_from())["type"] == "ready"
            sockets[user.pk] = ws
        await sockets[alice.pk].send_json_to(
            {"type": "typing", "conversation": str(conversation.uuid)}
        )
        typing = await _until(sockets[bob.pk], "typing")
        assert typing == {
            "type": "typing",
            "conversation": str(conversation.uuid),
            "user": str(alice.uuid),
        }
        assert await sockets[carol.pk].receive_nothing(timeout=0.3)
        assert await sockets[alice.pk].receive_nothing(timeout=0.1)
        # Carol is no member: she is told not found and nobody hears from her.
        await sockets[carol.pk].send_json_to(
            {"type": "typing", "conversation": str(conversation.uuid)}
        )
        assert (await sockets[carol.pk].receive_json_from())["code"] == "not_found"
        assert await sockets[bob.pk].receive_nothing(timeout=0.3)
        for ws in sockets.values():
            await ws.disconnect()

    run(scenario)


def test_background_state_counts_as_offline_for_push() -> None:
    bob = make_user("bob")
    token = session_token_for(bob)

    async def scenario() -> None:
        ws = _socket(token)
        await ws.connect()
        await ws.receive_json_from()
        await ws.send_json_to({"type": "presence", "state": "background"})
        await ws.send_json_to({"type": "ping"})
        await ws.receive_json_from()
        assert await database_sync_to_async(online_user_ids)(user_ids=[bob.pk]) == set()
        await ws.send_json_to({"type": "presence", "state": "foreground"})
        await ws.send_json_to({"type": "ping"})
        await ws.receive_json_from()
        assert await database_sync_to_async(online_user_ids)(user_ids=[bob.pk]) == {bob.pk}
        await ws.disconnect()

    run(scenario)


def test_session_ended_by_accounts_closes_the_socket_at_once() -> None:
    from channels.layers import get_channel_layer

    from chat.events import user_group

    bob = make_user("bob")
    token = session_token_for(bob)

    async def scenario() -> None:
        ws = _socket(token)
        await ws.connect()
        assert (await ws.receive_json_from())["type"] == "ready"
        layer = get_channel_layer()
        await layer.group_send(user_group(bob.pk), {"type": "session.ended", "session_key": "x"})
        assert await ws.receive_nothing(timeout=0.3)  # another session: this socket stays
        await layer.group_send(user_group(bob.pk), {"type": "session.ended", "session_key": token})
        closed = await ws.receive_output(timeout=2)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_INVALID_SESSION)

    run(scenario)


def test_presence_with_two_devices() -> None:
    bob = make_user("bob")
    phone, tablet = session_token_for(bob), session_token_for(bob)

    async def online() -> set[int]:
        ids: set[int] = await database_sync_to_async(online_user_ids)(user_ids=[bob.pk])
        return ids

    async def scenario() -> None:
        first, second = _socket(phone), _socket(tablet)
        for ws in (first, second):
            await ws.connect()
            await ws.receive_json_from()
        # The phone goes to the background: the tablet still shows the app.
        await first.send_json_to({"type": "presence", "state": "background"})
        await first.send_json_to({"type": "ping"})
        await first.receive_json_from()
        assert await online() == {bob.pk}
        await second.disconnect()
        assert await online() == set()  # only a backgrounded phone is left
        await first.send_json_to({"type": "presence", "state": "foreground"})
        await first.send_json_to({"type": "ping"})
        await first.receive_json_from()
        assert await online() == {bob.pk}
        await first.disconnect()
        assert await online() == set()

    run(scenario)


@pytest.mark.parametrize("change", ["banned", "deactivated", "password_changed"])
def test_an_account_change_closes_the_socket_at_the_next_heartbeat(
    settings: LazySettings, change: str
) -> None:
    settings.CHAT_WS_HEARTBEAT = 0.2
    bob = make_user("bob")
    token = session_token_for(bob)

    def account_change() -> None:
        if change == "banned":
            User.objects.filter(pk=bob.pk).update(banned_at=timezone.now())
        elif change == "deactivated":
            User.objects.filter(pk=bob.pk).update(is_active=False)
        else:
            bob.set_password("a-new-password-1234")
            bob.save(update_fields=["password"])

    async def scenario() -> None:
        ws = _socket(token)
        await ws.connect()
        assert (await ws.receive_json_from())["type"] == "ready"
        assert (await ws.receive_json_from(timeout=2))["type"] == "heartbeat"
        await database_sync_to_async(account_change)()
        assert await _closed(ws) == CLOSE_INVALID_SESSION

    run(scenario)


def test_a_heartbeat_keeps_the_user_online_when_the_cache_lost_the_session(
    settings: LazySettings,
) -> None:
    """The session's cache entry is gone (Redis restarted): the heartbeat reads the
    session's row, the socket stays open and the user is online again."""
    settings.CHAT_WS_HEARTBEAT = 0.2
    bob = make_user("bob")
    token = session_token_for(bob)

    async def scenario() -> None:
        ws = _socket(token)
        await ws.connect()
        assert (await ws.receive_json_from())["type"] == "ready"
        await database_sync_to_async(cache.delete)(SessionStore(session_key=token).cache_key)
        await database_sync_to_async(presence_clear)(user_id=bob.pk)
        assert await database_sync_to_async(online_user_ids)(user_ids=[bob.pk]) == set()
        assert (await ws.receive_json_from(timeout=2))["type"] == "heartbeat"
        assert await database_sync_to_async(online_user_ids)(user_ids=[bob.pk]) == {bob.pk}
        assert (await ws.receive_json_from(timeout=2))["type"] == "heartbeat"
        await ws.disconnect()

    run(scenario)
