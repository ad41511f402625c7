"""The API's throttles count requests per fixed window, in one cache round trip."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache, caches
from rest_framework.exceptions import Throttled
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


class _Batched(throttling.OneRoundTripThrottlesMixin, APIView):
    throttle_scope = "probe"
    throttle_classes = (throttling.UserRateThrottle, throttling.ScopedRateThrottle)


@pytest.mark.django_db
def test_a_views_throttles_count_in_one_round_trip_and_still_refuse(
    monkeypatch: pytest.MonkeyPatch, scoped: throttling.ScopedRateThrottle
) -> None:
    """Both limits are counted on every request (as DRF does), in one call to the
    cache; past either limit the answer is DRF's Throttled, waiting for the longest."""
    user = make_user()
    monkeypatch.setattr(throttling, "clock", lambda: 1_800_000_010.0)
    calls: list[int] = []
    from meetnow.lib.cache import counters_incr as real

    def counted(counters: list[tuple[str, int]]) -> list[int]:
        calls.append(len(counters))
        return real(counters)

    monkeypatch.setattr("meetnow.lib.throttling.counters_incr", counted)
    view = _Batched()
    for _ in range(3):
        view.check_throttles(_request(user))
    with pytest.raises(Throttled) as refused:
        view.check_throttles(_request(user))
    assert vars(refused.value)["wait"] == 50
    assert calls == [2, 2, 2, 2]
    window = 1_800_000_010 // 60
    user_key = throttling.UserRateThrottle().get_cache_key(_request(user), view)
    scoped_key = scoped.cache_format % {"scope": "probe", "ident": user.pk}
    assert cache.get(f"{user_key}:w{window}") == 4
    assert cache.get(f"{scoped_key}:w{window}") == 4


@pytest.mark.django_db
def test_the_per_user_limit_refuses_in_a_batch_too(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = {**throttling.UserRateThrottle.THROTTLE_RATES, "user": "2/min", "probe": "9/min"}
    monkeypatch.setattr(throttling.UserRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(throttling.ScopedRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(throttling, "clock", lambda: 1_800_000_030.0)
    user = make_user()
    view = _Batched()
    view.check_throttles(_request(user))
    view.check_throttles(_request(user))
    with pytest.raises(Throttled) as refused:
        view.check_throttles(_request(user))
    assert vars(refused.value)["wait"] == 30
