"""The API's throttles count requests per fixed window, in one cache round trip."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache, caches
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.models import User
from meetnow.lib import throttling
from meetnow.lib.cache import SharedPoolRedisCache
from tests.factories.chat import make_user


class _View(APIView):
    throttle_scope = "probe"


@pytest.fixture
def scoped(monkeypatch: pytest.MonkeyPatch) -> throttling.ScopedRateThrottle:
    rates = {**throttling.ScopedRateThrottle.THROTTLE_RATES, "probe": "3/min"}
    monkeypatch.setattr(throttling.ScopedRateThrottle, "THROTTLE_RATES", rates)
    return throttling.ScopedRateThrottle()


def _request(user: User | None) -> Request:
    request = APIRequestFactory().get("/")
    request.user = user or AnonymousUser()
    return request


@pytest.mark.django_db
def test_a_window_allows_the_rate_then_refuses_until_it_ends(
    monkeypatch: pytest.MonkeyPatch, scoped: throttling.ScopedRateThrottle
) -> None:
    user = make_user()
    now = [1_800_000_010.0]  # 10 s into a minute
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
    allowed = [scoped.allow_request(_request(user), _View()) for _ in range(4)]
    assert allowed == [True, True, True, False]
    assert scoped.wait() == pytest.approx(50.0)
    now[0] += 49.0
    assert scoped.allow_request(_request(user), _View()) is False
    now[0] += 1.5  # the next minute
    assert scoped.allow_request(_request(user), _View()) is True


@pytest.mark.django_db
def test_each_user_has_an_own_count_and_the_counter_expires(
    monkeypatch: pytest.MonkeyPatch, scoped: throttling.ScopedRateThrottle
) -> None:
    alice, bob = make_user(), make_user()
    monkeypatch.setattr(throttling, "clock", lambda: 1_800_000_000.0)
    assert all(scoped.allow_request(_request(alice), _View()) for _ in range(3))
    assert scoped.allow_request(_request(alice), _View()) is False
    assert scoped.allow_request(_request(bob), _View()) is True
    key = f"{scoped.get_cache_key(_request(alice), _View())}:w{1_800_000_000 // 60}"
    assert cache.get(key) == 4  # one counter per key and window, not a list of times
    backend = caches["default"]
    if isinstance(backend, SharedPoolRedisCache):  # Redis: the counter dies with its window
        client = backend._cache.get_client(write=True)
        assert 0 < client.ttl(backend.make_and_validate_key(key)) <= 61
    elif settings.CACHES["default"]["BACKEND"].endswith("SharedPoolRedisCache"):
        pytest.fail("the Redis cache was not recognised")


def test_unscoped_views_are_not_limited(scoped: throttling.ScopedRateThrottle) -> None:
    assert scoped.allow_request(_request(None), APIView()) is True
