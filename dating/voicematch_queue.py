"""The voice-match waiting queue: who waits, with which filters, and the atomic claim.

Two implementations of one small interface:

- :class:`RedisQueue` when the default cache is Redis (``REDIS_URL`` set): a sorted set
  (user id by the time they entered) and a hash (user id -> their entry), changed only
  by Lua scripts, which Redis runs one at a time. ``claim`` removes the claimer and the
  first still-waiting candidate in one script, so two servers (or two threads) can
  never pair the same person twice: whoever runs second finds them gone.
- :class:`LocalQueue` otherwise (development without Redis, one process): the same
  state in a dict under a lock, as the local-memory cache is the in-process
  equivalent of the Redis cache.

An entry older than ``DATING_VOICE_MATCH_WAIT_SECONDS`` is never claimed and is
removed by the next ``add``; the Redis keys expire by themselves once nobody entered
for that long (no queue record outlives its wait: P15). The queue holds ids, a
gender, an age and filters, never a name or a phone number.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import caches


@dataclass(frozen=True)
class Entry:
    """One waiting person: who they are (gender, age) and whom they accept."""

    user_id: int
    gender: str  # "" when the profile has none
    age: int | None
    want_gender: str  # "" for anyone
    age_min: int | None
    age_max: int | None
    entered_at: float  # unix seconds

    def accepts(self, other: Entry) -> bool:
        """Does ``other`` pass this person's filters?"""
        if self.want_gender and other.gender != self.want_gender:
            return False
        if self.age_min is not None and (other.age is None or other.age < self.age_min):
            return False
        return not (self.age_max is not None and (other.age is None or other.age > self.age_max))

    def dumps(self) -> str:
        return json.dumps(
            [
                self.user_id,
                self.gender,
                self.age,
                self.want_gender,
                self.age_min,
                self.age_max,
                self.entered_at,
            ],
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, raw: str | bytes) -> Entry:
        uid, gender, age, want, low, high, at = json.loads(raw)
        return cls(int(uid), str(gender), age, str(want), low, high, float(at))


class Queue(Protocol):
    def add(self, entry: Entry) -> None:
        """Enter (or refresh: new filters, new wait) the queue."""

    def enter(self, entry: Entry, *, count: int) -> list[Entry]:
        """``add``, then the first page of ``entries`` at the time of entering (the
        entry itself included): one round trip."""

    def entries(
        self, *, now: float, since: float | None = None, count: int | None = None
    ) -> list[Entry]:
        """Everyone waiting and not timed out, longest-waiting first; with ``since``
        only those who entered then or later, with ``count`` at most that many (a page:
        the next starts at the last one's ``entered_at``)."""

    def get(self, user_id: int, *, now: float) -> Entry | None:
        """The user's entry if they wait and have not timed out."""

    def claim(
        self, user_id: int, candidates: Sequence[int], *, now: float
    ) -> tuple[bool, Entry | None]:
        """Atomically take the user and the first candidate still waiting out of the
        queue. ``(True, entry)``: paired with that candidate; ``(True, None)``: no
        candidate waits (the user keeps waiting); ``(False, None)``: the user no longer
        waits (another server paired them, or their wait timed out)."""

    def remove(self, user_id: int) -> bool:
        """Leave the queue; whether the user was in it."""


def _wait() -> float:
    return float(settings.DATING_VOICE_MATCH_WAIT_SECONDS)


# KEYS[1]: sorted set user id -> entered at (ms), KEYS[2]: hash user id -> entry.
# ARGV[1]: the user, ARGV[2]: entered at (ms), ARGV[3]: the entry, ARGV[4]: the cutoff
# (ms: older entries are dropped), ARGV[5]: the keys' time to live (s).
_ADD_BODY = """
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
for _, uid in ipairs(stale) do
  redis.call('ZREM', KEYS[1], uid)
  redis.call('HDEL', KEYS[2], uid)
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
"""
_ADD = _ADD_BODY + "return 1\n"

# ARGV[1]: the claimer, ARGV[2]: the cutoff (ms), ARGV[3..]: candidates in order.
_CLAIM = """
local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not mine or tonumber(mine) < tonumber(ARGV[2]) then
  return {-1, false}
end
for i = 3, #ARGV do
  local at = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if at and tonumber(at) >= tonumber(ARGV[2]) then
    local entry = redis.call('HGET', KEYS[2], ARGV[i])
    redis.call('ZREM', KEYS[1], ARGV[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[1], ARGV[i])
    return {tonumber(ARGV[i]), entry}
  end
end
return {0, false}
"""

# LOW: the lowest score (ms: the cutoff, or a page's start), COUNT: at most that many
# (-1: all). Those still waiting, longest first, as one string of comma-separated JSON
# entries: one reply to parse instead of one per person.
_PAGE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], LOW, '+inf', 'LIMIT', 0, COUNT)
local out = {}
for i = 1, #ids, 500 do
  local part = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 499, #ids)))
  for _, raw in ipairs(part) do
    if raw then out[#out + 1] = raw end
  end
end
return table.concat(out, ',')
"""
_ENTRIES = _PAGE.replace("LOW", "ARGV[1]").replace("COUNT", "ARGV[2]")
# Enter and read the first page in one script (one round trip): ARGV as for _ADD, and
# ARGV[6] the page's size; the page starts at the cutoff.
_ENTER = _ADD_BODY + _PAGE.replace("LOW", "ARGV[4]").replace("COUNT", "ARGV[6]")

_REMOVE = """
local n = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return n
"""


class RedisQueue:
    """The queue in Redis (every server process shares it)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.keys = [f"{prefix}:waiting", f"{prefix}:entries"]
        self._add = client.register_script(_ADD)
        self._claim = client.register_script(_CLAIM)
        self._remove = client.register_script(_REMOVE)
        self._entries = client.register_script(_ENTRIES)
        self._enter = client.register_script(_ENTER)

    def _add_args(self, entry: Entry) -> list[Any]:
        cutoff = (entry.entered_at - _wait()) * 1000
        ttl = int(_wait()) + 60
        return [entry.user_id, entry.entered_at * 1000, entry.dumps(), cutoff, ttl]

    def add(self, entry: Entry) -> None:
        self._add(keys=self.keys, args=self._add_args(entry))

    def enter(self, entry: Entry, *, count: int) -> list[Entry]:
        return _parsed(self._enter(keys=self.keys, args=[*self._add_args(entry), count]))

    def entries(
        self, *, now: float, since: float | None = None, count: int | None = None
    ) -> list[Entry]:
        # One script reply and one json.loads for the page: with 1,000 people waiting,
        # reading them one reply item and one decode each took ~15 ms.
        low = (now - _wait()) * 1000
        if since is not None:
            low = max(low, since * 1000)
        return _parsed(self._entries(keys=self.keys, args=[low, -1 if count is None else count]))

    def get(self, user_id: int, *, now: float) -> Entry | None:
        raw = self.client.hget(self.keys[1], str(user_id))
        if raw is None:
            return None
        entry = Entry.loads(raw)
        return entry if entry.entered_at >= now - _wait() else None

    def claim(
        self, user_id: int, candidates: Sequence[int], *, now: float
    ) -> tuple[bool, Entry | None]:
        cutoff = (now - _wait()) * 1000
        partner, raw = self._claim(keys=self.keys, args=[user_id, cutoff, *candidates])
        if int(partner) == -1:
            return False, None
        if int(partner) == 0 or raw is None:
            return True, None
        return True, Entry.loads(raw)

    def remove(self, user_id: int) -> bool:
        return bool(self._remove(keys=self.keys, args=[user_id]))


def _parsed(raw: Any) -> list[Entry]:
    """The entries of a page script's reply."""
    if not raw:
        return []
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return [
        Entry(int(uid), str(gender), age, str(want), low, high, float(at))
        for uid, gender, age, want, low, high, at in json.loads(f"[{text}]")
    ]


class LocalQueue:
    """The queue in this process (development without Redis): one dict per prefix."""

    _states: dict[str, dict[int, Entry]] = {}
    _lock = threading.Lock()

    def __init__(self, prefix: str) -> None:
        with self._lock:
            self.waiting = self._states.setdefault(prefix, {})

    def add(self, entry: Entry) -> None:
        cutoff = entry.entered_at - _wait()
        with self._lock:
            for uid in [u for u, e in self.waiting.items() if e.entered_at < cutoff]:
                del self.waiting[uid]
            self.waiting[entry.user_id] = entry

    def enter(self, entry: Entry, *, count: int) -> list[Entry]:
        self.add(entry)
        return self.entries(now=entry.entered_at, count=count)

    def entries(
        self, *, now: float, since: float | None = None, count: int | None = None
    ) -> list[Entry]:
        low = now - _wait() if since is None else max(now - _wait(), since)
        with self._lock:
            found = [e for e in self.waiting.values() if e.entered_at >= low]
        found.sort(key=lambda e: e.entered_at)
        return found if count is None else found[:count]

    def get(self, user_id: int, *, now: float) -> Entry | None:
        with self._lock:
            entry = self.waiting.get(user_id)
        return entry if entry is not None and entry.entered_at >= now - _wait() else None

    def claim(
        self, user_id: int, candidates: Sequence[int], *, now: float
    ) -> tuple[bool, Entry | None]:
        cutoff = now - _wait()
        with self._lock:
            mine = self.waiting.get(user_id)
            if mine is None or mine.entered_at < cutoff:
                return False, None
            for uid in candidates:
                other = self.waiting.get(uid)
                if other is not None and other.entered_at >= cutoff:
                    del self.waiting[user_id]
                    del self.waiting[uid]
                    return True, other
        return True, None

    def remove(self, user_id: int) -> bool:
        with self._lock:
            return self.waiting.pop(user_id, None) is not None


def queue_get() -> Queue:
    """The queue of this deployment: in Redis when the default cache is Redis (its
    connection pool and key prefix), in this process otherwise."""
    from meetnow.lib.cache import SharedPoolRedisCache

    backend: Any = caches["default"]
    prefix = backend.make_key("dating:voicematch")
    if not isinstance(backend, SharedPoolRedisCache):
        return LocalQueue(prefix)
    client = backend._cache.get_client(prefix, write=True)
    key = (id(client), prefix)
    found = _redis_queues.get(key)
    if found is None or found.client is not client:
        found = _redis_queues[key] = RedisQueue(client, prefix)
    return found


_redis_queues: dict[tuple[int, str], RedisQueue] = {}
