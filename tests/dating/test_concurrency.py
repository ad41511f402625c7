"""Counts never drift under concurrent likes (run against PostgreSQL in CI).

Threads, each with its own database connection, start together at a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from dating import services
from dating.models import PostLike, VoicePost
from tests.conftest import require_or_skip
from tests.factories.chat import make_user
from tests.factories.dating import make_post

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _race(works: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = works[i]()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    require_or_skip(
        connection.vendor == "postgresql",
        "concurrent writers need PostgreSQL (SQLite has one writer)",
    )


def test_concurrent_likes_of_many_people_are_all_counted() -> None:
    post = make_post(make_user("author"))
    fans = [make_user(f"fan{i}") for i in range(THREADS)]

    def like(fan: Any) -> Callable[[], Any]:
        return lambda: services.post_like(user=fan, post_uuid=post.uuid)

    results = _race([like(f) for f in fans])
    assert not [r for r in results if isinstance(r, Exception)]
    post.refresh_from_db()
    assert post.like_count == PostLike.objects.filter(post=post).count() == THREADS


def test_one_persons_concurrent_likes_and_unlikes_never_drift() -> None:
    post = make_post(make_user("author"))
    fan = make_user("fan")
    for _ in range(3):
        works: list[Callable[[], Any]] = [
            (lambda: services.post_like(user=fan, post_uuid=post.uuid))
            if i % 2
            else (lambda: services.post_unlike(user=fan, post_uuid=post.uuid))
            for i in range(THREADS)
        ]
        results = _race(works)
        assert not [r for r in results if isinstance(r, Exception)]
        stored = VoicePost.objects.get(pk=post.pk).like_count
        assert stored == PostLike.objects.filter(post=post).count() in (0, 1)
    retries = _race([lambda: services.post_like(user=fan, post_uuid=post.uuid)] * THREADS)
    assert not [r for r in retries if isinstance(r, Exception)]
    assert VoicePost.objects.get(pk=post.pk).like_count == 1
