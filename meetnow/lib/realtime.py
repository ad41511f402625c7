"""Send to Channels groups from synchronous code (views, services, Celery tasks).

``async_to_sync(layer.group_send)`` is the textbook way, but it is slow where it
matters most: on a thread without an event loop (the HTTP worker threads, Celery) it
starts a new loop, and so a new Redis connection, for every call. The settings use
channels_redis's pub/sub layer, where a group send is one ``PUBLISH`` of the
layer's own serialization to the group's Redis channel; this module issues those
``PUBLISH`` commands, one pipelined round trip for any number of groups, on a
process-wide synchronous client. Any other layer (the in-memory layer of
development and tests) goes through the server's event loop if one is registered
(:func:`server_loop_set`), or through ``async_to_sync`` otherwise.

The pub/sub format is checked against the real layer by
``tests/meetnow/test_realtime.py``: a socket joined through channels_redis must
receive what this module publishes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None
_clients: dict[str, Any] = {}
_lock = threading.Lock()
LOOP_TIMEOUT = 5.0  # seconds; the in-memory path only


def server_loop_set(loop: asyncio.AbstractEventLoop | None) -> None:
    """Register the ASGI server's event loop (where the in-memory layer lives)."""
    global _server_loop
    _server_loop = loop


def _pubsub_target(layer: Any) -> tuple[str, str] | None:
    """``(redis_url, prefix)`` when ``layer`` is a single-host channels_redis pub/sub
    layer whose messages can be published directly; ``None`` otherwise."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    options: dict[str, Any] = getattr(layer, "_kwargs", {})
    hosts = options.get("hosts") or []
    if len(hosts) != 1 or not isinstance(hosts[0], str):
        return None
    return hosts[0], str(options.get("prefix", "asgi"))


def _client(url: str) -> Any:
    client = _clients.get(url)
    if client is None:
        import redis

        with _lock:
            client = _clients.get(url)
            if client is None:
                client = redis.Redis.from_url(url)
                _clients[url] = client
    return client


def group_send_many(
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    read: tuple[str, Sequence[str]] | None = None,
    incr: Sequence[tuple[str, int]] = (),
) -> tuple[list[Any], list[int]] | None:
    """Send each ``(group, message)`` to its Channels group. Raises on failure.

    ``read``: ``(redis_url, keys)`` to read (``MGET``) in the same round trip as the
    publishes, if the layer publishes to that Redis; ``incr``: ``(key, timeout)``
    counters on that Redis to add one to (``INCR``, ``EXPIRE NX``) in it too. Returns
    the keys' raw values and the counters' new values then, ``None`` otherwise (the
    caller reads and counts itself). The message send reads its recipients' presence
    and counts the socket's send limit this way (one Redis round trip after commit)."""
    layer = get_channel_layer() if items or read else None
    if layer is None:
        return None
    target = _pubsub_target(layer)
    if target is not None:
        return _publish_pipelined(layer, target, items, read=read, incr=incr)
    if not items:
        return None

    async def send_all() -> None:
        for group, message in items:
            await layer.group_send(group, dict(message))

    loop = _server_loop
    if loop is not None and loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            asyncio.run_coroutine_threadsafe(send_all(), loop).result(timeout=LOOP_TIMEOUT)
            return None
    async_to_sync(send_all)()
    return None


def _publish_pipelined(
    layer: Any,
    target: tuple[str, str],
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    read: tuple[str, Sequence[str]] | None,
    incr: Sequence[tuple[str, int]],
) -> tuple[list[Any], list[int]] | None:
    """:func:`group_send_many` on the pub/sub layer: one pipelined round trip.

    The commands are packed by the connection's own packer and written in one go on a
    connection this thread keeps (:func:`_connection`), and the replies read back in
    order: redis-py's pipeline
    object builds, packs and parses each command through several layers and checks
    the pooled connection for stale data (a system call) whenever it is taken; with
    eight members' publishes, their presence and the send limit in one round trip,
    that was about a third of a WebSocket send's CPU in its thread (bench/chat.py)."""
    url, prefix = target
    commands: list[tuple[Any, ...]] = [
        ("PUBLISH", f"{prefix}__group__{group}", layer.serialize(dict(message)))
        for group, message in items
    ]
    replying = read is not None and read[0] == url
    keys = read[1] if read is not None and replying else ()
    if replying:
        if keys:
            commands.append(("MGET", *keys))
        for key, timeout in incr:
            commands.append(("INCR", key))
            commands.append(("EXPIRE", key, timeout, "NX"))
    replies = _round_trip(url, commands)
    if not replying:
        return None
    tail = replies[len(items) :]
    values = list(tail[0]) if keys else []
    return values, [int(count) for count in tail[1 if keys else 0 :: 2]]


_local = threading.local()


def _connection(url: str) -> Any:
    """This thread's own connection to ``url``'s Redis (made by the shared client's pool,
    so with its address, credentials, database and TLS; not shared, so never holding
    another thread's replies). A forked child makes its own (the pid is checked)."""
    pid = os.getpid()
    conns: dict[str, Any] | None = getattr(_local, "conns", None)
    if conns is None or getattr(_local, "pid", None) != pid:
        conns = _local.conns = {}
        _local.pid = pid
    conn = conns.get(url)
    if conn is None:
        conn = conns[url] = _client(url).connection_pool.make_connection()
    return conn


def _round_trip(url: str, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Send ``commands`` in one write and read their replies. Raises on any failure
    (connection, or an error reply) after dropping the connection, so replies left
    unread never answer the next round trip; the next one reconnects."""
    conn = _connection(url)
    try:
        conn.send_packed_command(conn.pack_commands(commands), check_health=False)
        return [conn.read_response() for _ in commands]
    except BaseException:
        conn.disconnect()
        raise


def session_group(session_key: str) -> str:
    """The channel-layer group of every socket signed in with one session.

    A digest, not the key: group names travel through Redis and logs, and the key
    is the session token itself.
    """
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def sessions_close(session_keys: Iterable[str]) -> None:
    """Close, at once, every socket signed in with these sessions (logout, session
    end, ban, erasure), after the transaction that ended them commits.

    Best effort: if the channel layer is down the sockets still close at their next
    heartbeat, which checks the session again.
    """
    groups = [session_group(key) for key in session_keys if key]
    if not groups:
        return

    def send() -> None:
        try:
            group_send_many([(g, {"type": "session.ended", "session_key": None}) for g in groups])
        except Exception:
            logger.warning("could not close the sockets of %d ended session(s)", len(groups))

    transaction.on_commit(send)
