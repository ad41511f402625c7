"""Presence: "has a live socket with the app in the foreground", TTL'd in the cache.

Written by the WebSocket consumer (on connect, on every heartbeat and on the app's
foreground/background signal), read only by the server to decide whether to push
(P10). It is never polled by clients and never shown to other users; the only
thing others learn is "typing" (research/chat.md, pitfalls 8 and 9).

A user's sockets share one key. When one of several sockets closes the key is
dropped and re-set by the next heartbeat of a remaining socket, so for at most one
heartbeat interval such a user may get a push they did not need.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

FOREGROUND = "fg"
BACKGROUND = "bg"


def _key(user_id: int) -> str:
    return f"chat:presence:{user_id}"


def presence_set(*, user_id: int, state: str = FOREGROUND) -> None:
    cache.set(_key(user_id), state, timeout=settings.CHAT_PRESENCE_TTL)


def presence_clear(*, user_id: int) -> None:
    cache.delete(_key(user_id))


def online_user_ids(*, user_ids: Iterable[int]) -> set[int]:
    """Users among ``user_ids`` with a live socket and the app in the foreground (one
    cache round trip)."""
    ids = list(user_ids)
    if not ids:
        return set()
    found = cache.get_many([_key(uid) for uid in ids])
    return {uid for uid in ids if found.get(_key(uid)) == FOREGROUND}
