"""Voice match on a real Redis: nobody is ever paired twice, however many enter at once.

Threads, each with its own Redis connection (as separate servers would have), start
together at a barrier. Skipped without a Redis (outside CI); under CI one is there.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.conf import LazySettings
from django.core.cache import caches
from django.db import connection, connections

from chat.presence import FOREGROUND, presence_set
from dating import voicematch
from dating.models import VoiceMatchSession
from dating.voicematch_queue import Entry, LocalQueue, Queue, RedisQueue, queue_get
from tests.conftest import require_or_skip
from tests.factories.chat import make_user

REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def on_redis(settings: LazySettings) -> Iterator[str]:
    """The default cache (and so the queue) on the real Redis, under a fresh prefix."""
    require_or_skip(_redis_up(), "no Redis at REDIS_URL")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "meetnow.lib.cache.SharedPoolRedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": prefix,
        }
    }
    yield prefix
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.mark.parametrize("kind", ["redis", "local"])
def test_entering_hands_back_the_first_page_of_who_waits(kind: str, settings: LazySettings) -> None:
    """``enter`` adds the entry and reads, in the same round trip, the longest-waiting
    page (the entrant included, nobody timed out): what ``add`` then ``entries`` give."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    queue: Queue
    if kind == "redis":
        require_or_skip(_redis_up(), "no Redis at REDIS_URL")
        queue = RedisQueue(redis.Redis.from_url(REDIS), prefix)
    else:
        queue = LocalQueue(prefix)
    settings.DATING_VOICE_MATCH_WAIT_SECONDS = 60
    now = time.time()
    try:
        queue.add(Entry(1, "female", 30, "", None, None, now - 61))  # timed out
        for uid in range(2, 7):
            queue.add(Entry(uid, "female", 30, "male", 25, None, now - 10 + uid))
        me = Entry(9, "male", 41, "", None, 50, now)
        page = queue.enter(me, count=3)
        assert [e.user_id for e in page] == [2, 3, 4]
        assert page[0] == Entry(2, "female", 30, "male", 25, None, now - 10 + 2)
        assert queue.entries(now=now, count=3) == page
        assert [e.user_id for e in queue.enter(me, count=10)] == [2, 3, 4, 5, 6, 9]
        assert queue.get(1, now=now) is None
    finally:
        for uid in range(1, 10):
            queue.remove(uid)


def _race(works: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = works[i]()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_the_queue_never_hands_one_person_to_two_claimers(on_redis: str) -> None:
    """200 people, 8 "servers" (own connections), all compatible: every claim is a
    pair of two people nobody else got, and at most one is left waiting."""
    servers = 8
    per_server = 25
    prefix = caches["default"].make_key("dating:voicematch")  # as queue_get() names it
    pairs: list[tuple[int, int]] = []
    lock = threading.Lock()

    def server(n: int) -> Callable[[], int]:
        def work() -> int:
            queue = RedisQueue(redis.Redis.from_url(REDIS), prefix)
            for i in range(per_server):
                uid = n * per_server + i + 1
                now = time.time()
                entry = Entry(uid, "female", 30, "", None, None, now)
                page = queue.enter(entry, count=1000)  # entered, and who waits read
                others = [e.user_id for e in page if e.user_id != uid]
                _waits, partner = queue.claim(uid, others, now=now)
                if partner is not None:
                    with lock:
                        pairs.append((uid, partner.user_id))
            return 0

        return work

    results = _race([server(n) for n in range(servers)])
    assert results == [0] * servers
    seen = Counter(uid for pair in pairs for uid in pair)
    assert seen
    assert max(seen.values()) == 1, "someone was paired twice"
    left = queue_get().entries(now=time.time())
    assert len(left) <= 1
    assert len(seen) + len(left) == servers * per_server


@pytest.mark.django_db(transaction=True)
def test_many_people_entering_at_once_are_each_paired_once(on_redis: str) -> None:
    require_or_skip(
        connection.vendor == "postgresql",
        "concurrent writers need PostgreSQL (SQLite has one writer)",
    )
    people = [make_user(f"p{i}") for i in range(16)]
    for user in people:
        presence_set(user_id=user.pk, state=FOREGROUND, connection=f"socket-{user.pk}")

    def enter(user: Any) -> Callable[[], str]:
        return lambda: voicematch.voice_match_enter(user=user).state

    results = _race([enter(u) for u in people])
    assert not [r for r in results if isinstance(r, Exception)], results
    sessions = list(VoiceMatchSession.objects.values_list("caller_id", "callee_id"))
    seen = Counter(uid for pair in sessions for uid in pair)
    assert max(seen.values()) == 1, "someone was paired twice"
    # All compatible: nobody is left waiting beside another waiting person.
    assert len(sessions) == len(people) // 2
    assert queue_get().entries(now=time.time()) == []
