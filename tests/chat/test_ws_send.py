"""``message.send`` over the WebSocket (issue 20), in-process with the in-memory layer:
acks, idempotency across socket and HTTP, the HTTP endpoint's error codes, several
sends in flight, ordering per conversation, the send limit, the consent gate, bans."""

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
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from chat.consumers import CLOSE_ACCESS_REFUSED, CLOSE_INVALID_SESSION
from chat.models import Message
from chat.routing import websocket_urlpatterns
from meetnow.lib.cache import counter_incr as cache_counter_incr
from privacy.consents import gate_session_stamp
from privacy.models import DocumentKind, PolicyDocument
from privacy.selectors import documents_current
from privacy.services import consent_record, document_publish
from tests.chat.communicator import WebsocketCommunicator
from tests.conftest import require_or_skip
from tests.factories.chat import make_block, make_direct, make_group, make_user
from tests.helpers import session_token_for
from tests.ws_schema import assert_documented

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(scenario)()


async def _open(token: str) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(
        application, "/ws/v1/", headers=[(b"x-session-token", token.encode())]
    )
    connected, _ = await ws.connect(timeout=10)
    assert connected
    assert (await ws.receive_json_from(timeout=10))["type"] == "ready"
    return ws


async def _frame(ws: WebsocketCommunicator, kind: str, timeout: float = 10) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def _acks(ws: WebsocketCommunicator, n: int) -> dict[str, dict[str, Any]]:
    """The next ``n`` acks, by client_id (they may come in any order)."""
    found: dict[str, dict[str, Any]] = {}
    while len(found) < n:
        frame = await _frame(ws, "message.ack")
        found[frame["client_id"]] = frame
    return found


def _send(conversation: Any, client_id: str, **fields: Any) -> dict[str, Any]:
    frame = {
        "type": "message.send",
        "conversation": str(conversation.uuid),
        "client_id": client_id,
        **fields,
    }
    assert_documented(frame, "WsClientFrame")  # as /api/schema/ describes it
    return frame


def _api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=token)
    return client


def test_send_is_acked_with_the_stored_message_and_delivered_to_the_members() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    alice_token, bob_token = session_token_for(alice), session_token_for(bob)

    async def scenario() -> None:
        alice_ws, bob_ws = await _open(alice_token), await _open(bob_token)
        client_id = str(uuid.uuid4())
        await alice_ws.send_json_to(_send(conversation, client_id, text="hi over the socket"))
        # The event may reach the sender's socket before or after the ack.
        frames: dict[str, dict[str, Any]] = {}
        while len(frames) < 2:
            frame = await alice_ws.receive_json_from(timeout=10)
            frames[frame["type"]] = frame
        ack = frames["message.ack"]
        assert ack["client_id"] == client_id
        assert ack["status"] == 201
        message = ack["message"]
        assert message["text"] == "hi over the socket"
        assert message["sender"] == str(alice.uuid)
        assert message["conversation"] == str(conversation.uuid)
        assert message["client_id"] == client_id
        event = await _frame(bob_ws, "message.created")
        assert event["message"] == message
        assert event["seq"] > 0
        # The sender's own devices get the event too (with the sender's own seq).
        assert frames["message.created"]["message"] == message
        await alice_ws.disconnect()
        await bob_ws.disconnect()

    run(scenario)
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_a_resent_client_id_returns_the_stored_message_over_socket_and_http() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)
    api = _api(token)
    url = f"/api/v1/conversations/{conversation.uuid}/messages"

    async def scenario() -> None:
        ws = await _open(token)
        first = str(uuid.uuid4())
        await ws.send_json_to(_send(conversation, first, text="once"))
        stored = (await _frame(ws, "message.ack"))["message"]
        # Again over the socket: 200 and the same message, nothing new.
        await ws.send_json_to(_send(conversation, first, text="once"))
        again = await _frame(ws, "message.ack")
        assert (again["status"], again["message"]) == (200, stored)
        # The same client_id over HTTP: the same stored message.
        response = await database_sync_to_async(api.post)(
            url, {"client_id": first, "text": "once"}, format="json"
        )
        assert response.status_code == 200
        assert response.json() == stored
        # And the other way round: stored over HTTP, resent over the socket.
        second = str(uuid.uuid4())
        created = await database_sync_to_async(api.post)(
            url, {"client_id": second, "text": "via http"}, format="json"
        )
        assert created.status_code == 201
        await ws.send_json_to(_send(conversation, second, text="via http"))
        ack = await _frame(ws, "message.ack")
        assert (ack["status"], ack["message"]) == (200, created.json())
        await ws.disconnect()

    run(scenario)
    assert Message.objects.filter(conversation=conversation).count() == 2


@pytest.mark.parametrize(
    ("fields", "status", "code", "param"),
    [
        ({"text": ""}, 400, "text_required", "text"),
        ({"text": "x", "colour": "red"}, 400, "unknown_field", "colour"),
        ({"text": "x", "client_id": "not-a-uuid"}, 400, "invalid", "client_id"),
        ({"text": "x", "client_id": None}, 400, "null", "client_id"),
        ({"text": "x", "kind": "poem"}, 400, "invalid_choice", "kind"),
        ({"kind": "image"}, 400, "media_required", "media"),
        ({"text": "x" * 5000}, 400, "text_too_long", "text"),
    ],
)
def test_refusals_have_the_http_endpoints_status_and_codes(
    fields: dict[str, Any], status: int, code: str, param: str
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)
    client_id = str(uuid.uuid4())
    body = {"client_id": client_id, **fields}
    http = _api(token).post(
        f"/api/v1/conversations/{conversation.uuid}/messages", body, format="json"
    )

    async def scenario() -> dict[str, Any]:
        ws = await _open(token)
        await ws.send_json_to(
            {"type": "message.send", "conversation": str(conversation.uuid), **body}
        )
        ack = await _frame(ws, "message.ack")
        await ws.disconnect()
        return ack

    ack = run(scenario)
    assert http.status_code == status
    assert ack["status"] == status
    assert ack["errors"] == http.json()["errors"]
    assert (ack["errors"][0]["code"], ack["errors"][0].get("param")) == (code, param)
    echoed = body["client_id"]
    assert ack["client_id"] == (echoed if isinstance(echoed, str) else None)
    assert not Message.objects.exists()


def test_strangers_get_not_found_and_blocks_are_honoured() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    theirs = make_direct(alice, bob)
    with_carol = make_direct(alice, carol)
    make_block(carol, alice)
    token, carol_token = session_token_for(alice), session_token_for(carol)

    async def scenario() -> None:
        ws = await _open(carol_token)
        await ws.send_json_to(_send(theirs, str(uuid.uuid4()), text="let me in"))
        ack = await _frame(ws, "message.ack")
        assert (ack["status"], ack["errors"][0]["code"]) == (404, "not_found")
        await ws.send_json_to(
            {
                "type": "message.send",
                "conversation": "nope",
                "client_id": str(uuid.uuid4()),
                "text": "x",
            }
        )
        assert (await _frame(ws, "message.ack"))["status"] == 404
        await ws.disconnect()
        ws = await _open(token)
        await ws.send_json_to(_send(with_carol, str(uuid.uuid4()), text="hello?"))
        ack = await _frame(ws, "message.ack")
        assert (ack["status"], ack["errors"][0]["code"]) == (403, "blocked")
        await ws.disconnect()

    run(scenario)
    assert not Message.objects.exists()


def test_many_sends_in_flight_keep_each_conversations_order() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    direct = make_direct(alice, bob)
    group = make_group(alice, bob, carol)
    token = session_token_for(alice)
    plan = [(direct if i % 3 else group, f"m{i}", str(uuid.uuid4())) for i in range(24)]

    async def scenario() -> dict[str, dict[str, Any]]:
        ws = await _open(token)
        for conversation, text, client_id in plan:  # no waiting for acks
            await ws.send_json_to(_send(conversation, client_id, text=text))
        acks = await _acks(ws, len(plan))
        await ws.disconnect()
        return acks

    acks = run(scenario)
    assert {a["status"] for a in acks.values()} == {201}
    for conversation in (direct, group):
        sent = [text for conv, text, _ in plan if conv == conversation]
        by_id = list(
            Message.objects.filter(conversation=conversation, sender=alice)
            .order_by("id")
            .values_list("text", flat=True)
        )
        assert by_id == sent
    assert {a["client_id"] for a in acks.values()} == {cid for _, _, cid in plan}


def test_socket_sends_share_the_http_send_limit(send_limit: Any) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)
    response = _api(token).post(
        f"/api/v1/conversations/{conversation.uuid}/messages",
        {"client_id": str(uuid.uuid4()), "text": "http"},
        format="json",
    )
    assert response.status_code == 201

    async def scenario() -> list[dict[str, Any]]:
        ws = await _open(token)
        acks = []
        for _ in range(2):
            await ws.send_json_to(_send(conversation, str(uuid.uuid4()), text="ws"))
            acks.append(await _frame(ws, "message.ack"))
        await ws.disconnect()
        return acks

    second, third = run(scenario)
    assert second["status"] == 201
    assert (third["status"], third["errors"][0]["code"]) == (429, "rate_limited")
    assert third["retry_after"] > 0
    assert Message.objects.count() == 2


@pytest.fixture
def send_limit(settings: LazySettings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``chat_send`` at 2 a minute, one window throughout; forgets who hit it."""
    from rest_framework.throttling import SimpleRateThrottle

    from chat import ws_send

    monkeypatch.setattr("meetnow.lib.throttling.clock", lambda: 1_800_000_000.0)
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates["chat_send"] = "2/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(ws_send, "_at_limit", {})
    monkeypatch.setattr(ws_send, "_count_first", False)
    return ws_send


async def _statuses(ws: WebsocketCommunicator, frames: list[dict[str, Any]]) -> list[int]:
    """Send ``frames`` one at a time, each after the previous ack; their statuses."""
    statuses = []
    for frame in frames:
        await ws.send_json_to(frame)
        statuses.append((await _frame(ws, "message.ack"))["status"])
    return statuses


def test_refused_sends_count_against_the_send_limit_too(send_limit: Any) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)
    stranger = {"type": "message.send", "conversation": str(uuid.uuid4()), "text": "x"}

    async def scenario() -> list[int]:
        ws = await _open(token)
        statuses = await _statuses(
            ws,
            [
                {**stranger, "client_id": str(uuid.uuid4())},
                {**stranger, "client_id": str(uuid.uuid4())},
                _send(conversation, str(uuid.uuid4()), text="now?"),
            ],
        )
        await ws.disconnect()
        return statuses

    assert run(scenario) == [404, 404, 429]
    assert not Message.objects.exists()


def test_when_counting_fails_sends_are_counted_before_they_are_stored(
    send_limit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis down for the count after a send: that send stays stored (201); the next
    ones are counted first, as HTTP counts, so none goes uncounted (500 while it
    fails, then the limit holds again)."""
    from meetnow.lib import throttling

    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)
    real = cache_counter_incr
    down = [True]

    def counter_incr(key: str, *, timeout: int) -> int:
        if down[0]:
            raise ConnectionError("redis is down")
        return real(key, timeout=timeout)

    monkeypatch.setattr(throttling, "counter_incr", counter_incr)
    # The publishes' round trip fails too (so the send is counted on its own).
    monkeypatch.setattr("chat.events.group_send_many", lambda *a, **kw: 1 / 0)

    async def scenario() -> list[int]:
        ws = await _open(token)
        first = await _statuses(ws, [_send(conversation, str(uuid.uuid4()), text="1")])
        assert send_limit._count_first
        second = await _statuses(ws, [_send(conversation, str(uuid.uuid4()), text="2")])
        down[0] = False
        rest = await _statuses(
            ws, [_send(conversation, str(uuid.uuid4()), text=t) for t in ("3", "4", "5")]
        )
        await ws.disconnect()
        return first + second + rest

    assert run(scenario) == [201, 500, 201, 201, 429]
    assert sorted(Message.objects.values_list("text", flat=True)) == ["1", "3", "4"]


def test_with_redis_a_socket_send_is_counted_in_the_publishes_round_trip(
    send_limit: Any, settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import cache

    from meetnow.lib import throttling

    require_or_skip(bool(settings.REDIS_URL), "the Redis channel layer and cache")
    separate: list[str] = []
    real = cache_counter_incr

    def counter_incr(key: str, *, timeout: int) -> int:
        separate.append(key)
        return real(key, timeout=timeout)

    monkeypatch.setattr(throttling, "counter_incr", counter_incr)
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)

    async def scenario() -> list[int]:
        ws = await _open(token)
        statuses = await _statuses(
            ws, [_send(conversation, str(uuid.uuid4()), text=t) for t in ("a", "b", "c")]
        )
        await ws.disconnect()
        return statuses

    assert run(scenario) == [201, 201, 429]
    assert separate == []  # counted with the publishes, and the third refused at once
    use = throttling.scoped_limit_window(scope="chat_send", user_id=alice.pk)
    assert use is not None
    assert cache.get(use.key) == 2
    assert Message.objects.count() == 2


def _consenting_user(name: str) -> tuple[User, str]:
    # Transactional tests flush the documents the data migration published.
    for kind in DocumentKind.values:
        if not PolicyDocument.objects.filter(kind=kind, published_at__isnull=False).exists():
            document_publish(
                document=PolicyDocument.objects.create(
                    kind=kind,
                    version="1.0",
                    title=kind,
                    body="Text.",
                    body_zh_hans="正文。",
                    material_change=True,
                )
            )
    user = make_user(name)
    consent_record(user=user, documents=documents_current().values(), ip_address="203.0.113.1")
    token = session_token_for(user)
    gate_session_stamp(session=SessionStore(session_key=token), user_id=user.pk)
    return user, token


def test_withdrawing_consent_stops_socket_sends_at_once() -> None:
    alice, token = _consenting_user("alice")
    bob = make_user("bob")
    conversation = make_direct(alice, bob)
    api = _api(token)

    async def scenario() -> None:
        ws = await _open(token)
        await ws.send_json_to(_send(conversation, str(uuid.uuid4()), text="before"))
        assert (await _frame(ws, "message.ack"))["status"] == 201
        withdrawn = await database_sync_to_async(api.post)(
            "/api/v1/privacy/consents",
            {"action": "withdraw", "document_kinds": ["privacy_policy"]},
            format="json",
        )
        assert withdrawn.status_code == 200
        # Told at once (not at the next heartbeat): the socket closes with 4004.
        while True:
            output = await ws.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                break
        assert (output["code"], output["reason"]) == (CLOSE_ACCESS_REFUSED, "consent_withdrawn")

    run(scenario)
    assert list(Message.objects.values_list("text", flat=True)) == ["before"]


def test_a_send_racing_a_ban_is_refused_like_http() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)

    async def scenario() -> None:
        ws = await _open(token)
        # The ban has committed but its session.ended has not reached this socket yet.
        await database_sync_to_async(User.objects.filter(pk=alice.pk).update)(
            banned_at=timezone.now(), is_active=False
        )
        await ws.send_json_to(_send(conversation, str(uuid.uuid4()), text="sneaky"))
        ack = await _frame(ws, "message.ack")
        assert (ack["status"], ack["errors"][0]["code"]) == (401, "invalid_token")
        await ws.disconnect()

    run(scenario)
    assert not Message.objects.exists()


def test_a_banned_users_next_send_is_refused_and_closes_the_socket() -> None:
    from accounts.services import user_ban

    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)

    async def scenario() -> None:
        ws = await _open(token)
        await database_sync_to_async(lambda: user_ban(user=User.objects.get(pk=alice.pk)))()
        await ws.send_json_to(_send(conversation, str(uuid.uuid4()), text="after the ban"))
        ack = await _frame(ws, "message.ack")
        assert (ack["status"], ack["errors"][0]["code"]) == (401, "invalid_token")
        closed = await ws.receive_output(timeout=10)
        assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_INVALID_SESSION)

    run(scenario)
    assert not Message.objects.exists()


def test_sends_beyond_the_in_flight_limit_are_refused_until_acks_come_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chat import consumers, ws_send

    monkeypatch.setattr(consumers, "SEND_MAX_IN_FLIGHT", 2)
    real = ws_send.message_send_frame_async

    async def slow(**kwargs: Any) -> tuple[int, str]:
        await asyncio.sleep(0.3)
        answer: tuple[int, str] = await real(**kwargs)
        return answer

    monkeypatch.setattr(ws_send, "message_send_frame_async", slow)
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    token = session_token_for(alice)
    ids = [str(uuid.uuid4()) for _ in range(5)]

    async def scenario() -> dict[str, dict[str, Any]]:
        ws = await _open(token)
        for client_id in ids[:4]:
            await ws.send_json_to(_send(conversation, client_id, text="x"))
        acks = await _acks(ws, 4)
        # Acks came back: the socket takes sends again.
        await ws.send_json_to(_send(conversation, ids[4], text="x"))
        acks.update(await _acks(ws, 1))
        await ws.disconnect()
        return acks

    acks = run(scenario)
    assert [acks[c]["status"] for c in ids] == [201, 201, 429, 429, 201]
    assert acks[ids[2]]["errors"][0]["code"] == "too_many_in_flight"
    assert Message.objects.count() == 3
