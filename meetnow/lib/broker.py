"""The Celery broker's Redis transport, with one Redis client per channel.

kombu's Redis channel builds a new ``redis.Redis`` object for every command it sends
without a client in hand (``Channel.conn_or_acquire``): every task published
(``LPUSH``) paid for one. The connections themselves come from the channel's pool
either way, but building the client object registers its ~170 response callbacks: in
a profile of ``task_send`` (a like's push) about a third of the publish's CPU.
Celery's producer pool already keeps the channel between publishes; this channel
keeps its client too (``redis.Redis`` is thread-safe: each command borrows a pooled
connection), and builds a new one when kombu replaces the pool after a connection
error. Nothing else changes: a broker that is down still fails the publish, and
``meetnow.lib.outbox.task_send`` still keeps the task in the outbox.

Used when ``CELERY_BROKER_URL`` is ``redis://…`` (settings: ``CELERY_BROKER_TRANSPORT``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _command_client: tuple[Any, Any] | None = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        pool = self.pool
        kept = self._command_client
        if kept is None or kept[0] is not pool:
            kept = self._command_client = (pool, self._create_client())  # type: ignore[attr-defined]
        yield kept[1]


class Transport(kombu_redis.Transport):
    Channel = Channel
