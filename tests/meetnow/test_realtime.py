"""meetnow.lib.realtime: group sends from synchronous code reach sockets joined
through the real channel layer (pub/sub on Redis in CI, in-memory otherwise)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

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


def test_pubsub_layer_is_published_to_directly_in_one_round_trip(settings: LazySettings) -> None:
    layer = get_channel_layer()
    target = realtime._pubsub_target(layer)
    if "Redis" not in settings.CHANNEL_LAYERS["default"]["BACKEND"]:
        assert target is None
        require_or_skip(False, "in-memory channel layer (no REDIS_URL)")
    assert target is not None
    client = realtime._client(target[0])
    calls = []
    original = client.pipeline

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    client.pipeline = pipeline
    try:
        items = [(f"user.{i}", {"type": "chat.event", "event": {"n": i}}) for i in range(5)]
        got = _joined_then_sent({g: [m] for g, m in items}, lambda: realtime.group_send_many(items))
    finally:
        del client.pipeline
    assert calls == [1]
    assert got == {g: [m] for g, m in items}


def test_reads_and_counters_ride_in_the_publishes_round_trip(settings: LazySettings) -> None:
    import uuid

    layer = get_channel_layer()
    target = realtime._pubsub_target(layer)
    require_or_skip(target is not None, "the Redis pub/sub channel layer (REDIS_URL)")
    assert target is not None
    url = target[0]
    client = realtime._client(url)
    read_key, counter = f"test:read:{uuid.uuid4().hex}", f"test:count:{uuid.uuid4().hex}"
    client.set(read_key, b"here", ex=30)
    calls = []
    original = client.pipeline

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    client.pipeline = pipeline
    replies: list[Any] = []
    item = ("user.3", {"type": "chat.event", "event": {"n": 1}})

    def send() -> None:
        replies.extend(
            realtime.group_send_many(
                [item], read=(url, [read_key, read_key + "x"]), incr=[(counter, 30)]
            )
            for _ in range(2)
        )

    try:
        got = _joined_then_sent({"user.3": [item[1], item[1]]}, send)
    finally:
        del client.pipeline
    assert got == {"user.3": [item[1], item[1]]}
    assert calls == [1, 1]  # one round trip per call
    assert replies == [([b"here", None], [1]), ([b"here", None], [2])]
    assert 0 < client.ttl(counter) <= 30
    # Another Redis than the layer's: nothing read or counted there, the caller does it.
    assert realtime.group_send_many([item], read=("redis://elsewhere:1/0", [read_key])) is None
    assert int(client.get(counter)) == 2


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
