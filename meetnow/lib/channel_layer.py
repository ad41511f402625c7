"""The channel layer: channels_redis's pub/sub layer, and a resync when Redis returns.

Pub/sub delivers to whoever is subscribed at the moment of ``PUBLISH``. When Redis
restarts (or the connection to it drops), redis-py reconnects the server's subscriber
and subscribes again, silently, but what was published in between never reaches the
open sockets, and nothing tells them: a socket would stay open and deaf to the events
it missed until it happened to reconnect (found by issue 13's Redis restart test).

This layer notices the re-subscription (redis-py calls the pub/sub object's
``on_connect`` on every reconnect) and puts a ``layer.resync`` message on every channel
of the process; a consumer answers it by closing its socket with 1012 ("service
restart"), the app reconnects and catches up with ``/api/v1/sync`` as after any drop.
Everything else is channels_redis's ``RedisPubSubChannelLayer`` (meetnow.lib.realtime
still publishes to it directly).
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close
from redis.asyncio.client import PubSub

RESYNC = {"type": "layer.resync"}


class _PubSub(PubSub):
    shard: _Shard | None = None

    async def on_connect(self, connection: Any) -> None:
        # Subscriptions held before this connect mean the connection was lost (the
        # first connect happens before anything is subscribed).
        lost = bool(self.channels or self.patterns)
        await super().on_connect(connection)
        if lost and self.shard is not None:
            self.shard.resync()


class _Shard(RedisSingleShardConnection):  # type: ignore[misc]  # channels_redis has no types
    def _ensure_redis(self) -> None:
        if self._redis is None:
            super()._ensure_redis()
            client: Any = self._redis
            pubsub = _PubSub(client.connection_pool)
            pubsub.shard = self
            self._pubsub = pubsub

    def resync(self) -> None:
        """Tell every consumer of this process's loop that events may have been missed."""
        layer = self.channel_layer
        data = layer.channel_layer.serialize(RESYNC)
        for queue in list(layer.channels.values()):
            queue.put_nowait(data)


class _LoopLayer(RedisPubSubLoopLayer):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shards: list[Any] = getattr(self, "_shards")  # noqa: B009  (untyped base)
        self._shards = [_Shard(shard.host, self) for shard in shards]


class ResyncingRedisPubSubChannelLayer(RedisPubSubChannelLayer):  # type: ignore[misc]
    """``RedisPubSubChannelLayer`` whose consumers hear ``layer.resync`` after a reconnect."""

    def _get_layer(self) -> Any:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
