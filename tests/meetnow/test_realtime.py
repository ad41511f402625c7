"""meetnow.lib.realtime: group sends from synchronous code reach sockets joined
through the real channel layer (pub/sub on Redis in CI, in-memory otherwise)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import redis.exceptions
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import LazySettings

from meetnow.lib import realtime
from tests.conftest import require_or_skip


def _joined_then_sent(
    items_for: dict[str, list[dict[str, Any]]], send: Any
) -> dict[str, list[dict[str, Any]]]:
    """Join one channel per group, run ``send`` in a thread, collect what arrives."""

    async def scenario() -> dict[str, list[dict[str, Any]]]:
        layer = get_channel_layer()
        channels = {}
        for group in items_for:
            channels[group] = await layer.new_channel()
            await layer.group_add(group, channels[group])
        await sync_to_async(send, thread_sensitive=False)()
        got: dict[str, list[dict[str, Any]]] = {}
        for group, channel in channels.items():
            got[group] = [
                await asyncio.wait_for(layer.receive(channel), timeout=5) for _ in items_for[group]
            ]
        return got

    return async_to_sync(scenario)()


def test_every_group_receives_its_messages_in_order() -> None:
    items: list[tuple[str, dict[str, Any]]] = [
        ("user.1", {"type": "chat.event", "event": {"seq": 1, "text": "héllo"}}),
        ("user.2", {"type": "chat.event", "event": {"seq": 7}}),
        ("user.1", {"type": "session.ended", "session_key": None}),
    ]
    expected = {
        "user.1": [items[0][1], items[2][1]],
        "user.2": [items[1][1]],
    }
    got = _joined_then_sent(expected, lambda: realtime.group_send_many(items))
    assert got == expected


def _writes_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per write of publishes to Redis by any thread (a round trip each)."""
    import redis.connection

    calls: list[int] = []
    original: Any = redis.connection.AbstractConnection.send_packed_command

    def send_packed_command(self: Any, command: Any, check_health: bool = True) -> None:
        if any(b"PUBLISH" in bytes(part) for part in command):  # not a connection's setup
            calls.append(1)
        original(self, command, check_health)

    monkeypatch.setattr(
        redis.connection.AbstractConnection, "send_packed_command", send_packed_command
    )
    return calls


def test_pubsub_layer_is_published_to_directly_in_one_round_trip(
    settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = get_channel_layer()
    target = realtime._pubsub_target(layer)
    if "Redis" not in settings.CHANNEL_LAYERS["default"]["BACKEND"]:
        assert target is None
        require_or_skip(False, "in-memory channel layer (no REDIS_URL)")
    assert target is not None
    items = [(f"user.{i}", {"type": "chat.event", "event": {"n": i}}) for i in range(5)]
    writes = _writes_counted(monkeypatch)
    got = _joined_then_sent({g: [m] for g, m in items}, lambda: realtime.group_send_many(items))
    assert writes == [1]
    assert got == {g: [m] for g, m in items}


def _layer_redis() -> tuple[str, Any]:
    """The channel layer's Redis URL and client (the test is skipped without one)."""
    target = realtime._pubsub_target(get_channel_layer())
    require_or_skip(target is not None, "the Redis pub/sub channel layer (REDIS_URL)")
    assert target is not None
    return target[0], realtime._client(target[0])


def test_reads_and_counters_ride_in_the_publishes_round_trip(
    settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    url, client = _layer_redis()
    read_key, counter = f"test:read:{uuid.uuid4().hex}", f"test:count:{uuid.uuid4().hex}"
    client.set(read_key, b"here", ex=30)
    replies: list[Any] = []
    item = ("user.3", {"type": "chat.event", "event": {"n": 1}})

    def send() -> None:
        replies.extend(
            realtime.group_send_many(
                [item], read=(url, [read_key, read_key + "x"]), incr=[(counter, 30)]
            )
            for _ in range(2)
        )

    writes = _writes_counted(monkeypatch)
    got = _joined_then_sent({"user.3": [item[1], item[1]]}, send)
    assert got == {"user.3": [item[1], item[1]]}
    assert writes == [1, 1]  # one round trip per call
    assert replies == [([b"here", None], [1]), ([b"here", None], [2])]
    assert 0 < client.ttl(counter) <= 30
    # Another Redis than the layer's: nothing read or counted there, the caller does it.
    assert realtime.group_send_many([item], read=("redis://elsewhere:1/0", [read_key])) is None
    assert int(client.get(counter)) == 2


def test_an_error_reply_raises_and_leaves_no_reply_for_the_next_round_trip() -> None:
    """A failed command (here INCR on text) raises; the replies after it are not read,
    so the connection is dropped and the next call gets its own replies."""
    import uuid

    url, client = _layer_redis()
    text_key, counter = f"test:text:{uuid.uuid4().hex}", f"test:count:{uuid.uuid4().hex}"
    client.set(text_key, b"not a number", ex=30)
    item = ("user.4", {"type": "chat.event", "event": {"n": 2}})
    with pytest.raises(redis.exceptions.ResponseError):
        realtime.group_send_many([item], read=(url, [text_key]), incr=[(text_key, 30)])
    assert realtime.group_send_many([item], read=(url, [text_key]), incr=[(counter, 30)]) == (
        [b"not a number"],
        [1],
    )
    client.delete(text_key, counter)


def test_in_memory_layer_goes_through_the_registered_server_loop(settings: LazySettings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        realtime.server_loop_set(loop)

        async def join() -> str:
            layer = get_channel_layer()
            channel: str = await layer.new_channel()
            await layer.group_add("user.9", channel)
            return channel

        channel = asyncio.run_coroutine_threadsafe(join(), loop).result(timeout=5)
        realtime.group_send_many([("user.9", {"type": "chat.event", "event": {"ok": 1}})])
        received = asyncio.run_coroutine_threadsafe(
            get_channel_layer().receive(channel), loop
        ).result(timeout=5)
        assert received == {"type": "chat.event", "event": {"ok": 1}}
    finally:
        realtime.server_loop_set(None)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        channel_layers.backends.pop("default", None)
