"""Presence: "has a live socket with the app in the foreground", TTL'd in the cache.

Written by the WebSocket consumer (on connect, on every heartbeat and on the app's
foreground/background signal), read only by the server to decide whether to push
(P10). It is never polled by clients and never shown to other users; the only
thing others learn is "typing" (research/chat.md, pitfalls 8 and 9).

A user's sockets (phone, tablet) share one key holding each connection's state and
expiry; a user is online if any live connection is in the foreground. Two sockets
of one user updating at the same instant may drop one entry until that socket's
next heartbeat, i.e. at worst one push more than needed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches

from meetnow.lib.cache import SharedPoolRedisCache

FOREGROUND = "fg"
BACKGROUND = "bg"


def presence_key(user_id: int) -> str:
    """The cache key of a user's presence."""
    return f"chat:presence:{user_id}"


_key = presence_key  # chat.calls reads it under this name


def _live(entries: Any, now: float) -> dict[str, tuple[str, float]]:
    if not isinstance(entries, dict):
        return {}
    return {conn: entry for conn, entry in entries.items() if entry[1] > now}


def presence_set(*, user_id: int, state: str = FOREGROUND, connection: str = "") -> None:
    """Record that ``connection`` of the user is live in ``state`` for the next
    ``CHAT_PRESENCE_TTL`` seconds (called on connect, heartbeat and state change)."""
    ttl = settings.CHAT_PRESENCE_TTL
    now = time.time()
    entries = _live(cache.get(presence_key(user_id)), now)
    entries[connection] = (state, now + ttl)
    cache.set(presence_key(user_id), entries, timeout=ttl)


def presence_clear(*, user_id: int, connection: str | None = None) -> None:
    """Forget one connection of the user (socket closed), or all of them."""
    if connection is None:
        cache.delete(presence_key(user_id))
        return
    entries = _live(cache.get(presence_key(user_id)), time.time())
    entries.pop(connection, None)
    if entries:
        cache.set(presence_key(user_id), entries, timeout=settings.CHAT_PRESENCE_TTL)
    else:
        cache.delete(presence_key(user_id))


def cache_redis_keys(keys: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(redis_url, full keys)`` of cache ``keys`` on the shared Redis cache (one
    server), for a caller that uses them in a Redis round trip of its own; ``None``
    with another cache backend."""
    backend: Any = caches["default"]
    if not isinstance(backend, SharedPoolRedisCache):
        return None
    client: Any = backend._cache  # Django's private attributes are not in the stubs
    if len(client._servers) != 1:
        return None
    return client._servers[0], [backend.make_and_validate_key(key) for key in keys]


def online_from_values(*, user_ids: Sequence[int], values: Sequence[Any]) -> set[int]:
    """:func:`online_user_ids` from the raw values of the users' presence keys
    (:func:`presence_key`, read by the caller: :func:`cache_redis_keys`)."""
    backend: Any = caches["default"]
    loads = backend._cache._serializer.loads
    now = time.time()
    return {
        uid
        for uid, raw in zip(user_ids, values, strict=True)
        if raw is not None
        and any(state == FOREGROUND for state, _ in _live(loads(raw), now).values())
    }


def online_user_ids(*, user_ids: Iterable[int]) -> set[int]:
    """Users among ``user_ids`` with a live socket and the app in the foreground (one
    cache round trip)."""
    ids = list(user_ids)
    if not ids:
        return set()
    keys = {uid: presence_key(uid) for uid in ids}
    found = cache.get_many(list(keys.values()))
    now = time.time()
    return {
        uid
        for uid, key in keys.items()
        if any(state == FOREGROUND for state, _ in _live(found.get(key), now).values())
    }
