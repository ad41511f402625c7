"""DRF throttles that count requests in fixed windows.

DRF's own throttles keep, per key, the list of the timestamps of every request in
the window, read and rewritten whole on each request: two cache round trips and a
pickled list of up to N floats per request (research/chat.md, pitfall 1: the limiter
should not be what a busy sender measures). These keep one counter per key and
window instead: one atomic ``INCR`` per request. A fixed window lets a client send
up to twice the rate across a window boundary, which is acceptable for abuse limits.

Rates, scopes and cache keys are DRF's (``DEFAULT_THROTTLE_RATES``, ``throttle_scope``).

A view with several such throttles (the per-user limit and its scope's) counts them
all in one round trip when it uses :class:`OneRoundTripThrottlesMixin`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rest_framework import throttling

from meetnow.lib.cache import counter_incr, counters_incr

clock = time.time  # tests pin it


class WindowCounterThrottle(throttling.SimpleRateThrottle):
    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        return self.count_one(self.key)

    # Set by OneRoundTripThrottlesMixin: count_one then only notes its counter here.
    batch: list[tuple[WindowCounterThrottle, str, int]] | None = None

    def count_one(self, key: str) -> bool:
        """Count one use under ``key`` in the current window; False once over the limit.
        In a batch, the counter is noted and counted later (:meth:`within_limit`)."""
        this: Any = self  # DRF sets these in __init__ (or allow_request), untyped
        duration = int(this.duration)
        now = clock()
        window = int(now // duration)
        self.window_ends = (window + 1) * duration
        self.now = now
        counter, timeout = f"{key}:w{window}", duration + 1
        if self.batch is not None:
            self.batch.append((self, counter, timeout))
            return True
        return self.within_limit(counter_incr(counter, timeout=timeout))

    def within_limit(self, count: int) -> bool:
        this: Any = self
        return count <= int(this.num_requests)

    def wait(self) -> float:
        return max(self.window_ends - self.now, 0.0)


class AnonRateThrottle(throttling.AnonRateThrottle, WindowCounterThrottle):
    pass


class UserRateThrottle(throttling.UserRateThrottle, WindowCounterThrottle):
    pass


class ScopedRateThrottle(throttling.ScopedRateThrottle, WindowCounterThrottle):
    pass


class PostScopedRateThrottle(ScopedRateThrottle):
    """The view's scoped limit, counting only POSTs (creating: sending, reporting,
    opening tickets); reading is left to the general per-user limit."""

    def allow_request(self, request: Any, view: Any) -> bool:
        return request.method != "POST" or super().allow_request(request, view)


class OneRoundTripThrottlesMixin:
    """A view mixin: DRF's ``check_throttles`` (every throttle counts the request; a
    429 waits for the longest), with the counters of all :class:`WindowCounterThrottle`
    throttles incremented in one Redis round trip instead of one each."""

    def check_throttles(self, request: Any) -> None:
        view: Any = self
        batch: list[tuple[WindowCounterThrottle, str, int]] = []
        durations: list[float | None] = []
        for throttle in view.get_throttles():
            if isinstance(throttle, WindowCounterThrottle):
                throttle.batch = batch
            if not throttle.allow_request(request, view):
                durations.append(throttle.wait())
        counts = counters_incr([(counter, timeout) for _t, counter, timeout in batch])
        for (throttle, _counter, _timeout), count in zip(batch, counts, strict=True):
            throttle.batch = None
            if not throttle.within_limit(count):
                durations.append(throttle.wait())
        if durations:
            view.throttled(request, max((d for d in durations if d is not None), default=None))


@dataclass
class WindowCount:
    """One use of a scoped limit in the current window, to count (``key``: the cache key
    of the window's counter, as :class:`ScopedRateThrottle` names it). ``value`` is the
    counter after counting, ``None`` until counted."""

    key: str
    timeout: int
    limit: int
    window_ends: float
    value: int | None = None

    def count(self) -> int:
        """Count it now (one round trip), unless counted already; the new value."""
        if self.value is None:
            self.value = counter_incr(self.key, timeout=self.timeout)
        return self.value

    def wait(self) -> float:
        """Seconds until the window ends."""
        return max(self.window_ends - clock(), 0.0)


def scoped_limit_window(
    *, scope: str, user_id: int | None = None, ident: str | None = None
) -> WindowCount | None:
    """A use of the scoped limit ``scope`` for a user (or ``ident``) in the current
    window, not counted yet; ``None`` if the scope has no rate. Same rate, key and
    window as :class:`ScopedRateThrottle`, so it counts on that throttle's counter."""
    throttle = ScopedRateThrottle()
    throttle.scope = scope
    rate = throttle.get_rate()
    if rate is None:
        return None
    num_requests, duration = throttle.parse_rate(rate)
    if num_requests is None or duration is None:
        return None
    window = int(clock() // duration)
    key = throttle.cache_format % {"scope": scope, "ident": user_id if ident is None else ident}
    return WindowCount(
        key=f"{key}:w{window}",
        timeout=duration + 1,
        limit=num_requests,
        window_ends=float((window + 1) * duration),
    )


def scoped_limit_wait(
    *, scope: str, user_id: int | None = None, ident: str | None = None
) -> float | None:
    """Count one use of the scoped limit ``scope`` for a user outside a DRF view (one
    round trip): the same rate, key and window as :class:`ScopedRateThrottle`, so both
    count on one counter. ``None`` if allowed, else the seconds until the window ends.
    ``ident`` instead of ``user_id`` counts for something else than a user (support's
    per-contact limit: a keyed hash)."""
    use = scoped_limit_window(scope=scope, user_id=user_id, ident=ident)
    if use is None or use.count() <= use.limit:
        return None
    return use.wait()
