"""DRF throttles that count requests in fixed windows.

DRF's own throttles keep, per key, the list of the timestamps of every request in
the window, read and rewritten whole on each request: two cache round trips and a
pickled list of up to N floats per request (research/chat.md, pitfall 1: the limiter
should not be what a busy sender measures). These keep one counter per key and
window instead: one atomic ``INCR`` per request. A fixed window lets a client send
up to twice the rate across a window boundary, which is acceptable for abuse limits.

Rates, scopes and cache keys are DRF's (``DEFAULT_THROTTLE_RATES``, ``throttle_scope``).
"""

from __future__ import annotations

import time
from typing import Any

from rest_framework import throttling

from meetnow.lib.cache import counter_incr

clock = time.time  # tests pin it


class WindowCounterThrottle(throttling.SimpleRateThrottle):
    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        return self.count_one(self.key)

    def count_one(self, key: str) -> bool:
        """Count one use under ``key`` in the current window; False once over the limit."""
        this: Any = self  # DRF sets these in __init__ (or allow_request), untyped
        duration = int(this.duration)
        now = clock()
        window = int(now // duration)
        self.window_ends = (window + 1) * duration
        self.now = now
        count = counter_incr(f"{key}:w{window}", timeout=duration + 1)
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


def scoped_limit_wait(
    *, scope: str, user_id: int | None = None, ident: str | None = None
) -> float | None:
    """Count one use of the scoped limit ``scope`` for a user outside a DRF view (the
    socket's ``message.send``): the same rate, key and window as
    :class:`ScopedRateThrottle`, so both transports share one counter. ``None`` if
    allowed, else the seconds until the window ends. ``ident`` instead of ``user_id``
    counts for something else than a user (support's per-contact limit: a keyed hash)."""
    throttle = ScopedRateThrottle()
    throttle.scope = scope
    throttle.rate = throttle.get_rate()
    if throttle.rate is None:
        return None
    this: Any = throttle  # DRF's untyped attributes
    this.num_requests, this.duration = throttle.parse_rate(throttle.rate)
    key = throttle.cache_format % {"scope": scope, "ident": user_id if ident is None else ident}
    if throttle.count_one(key):
        return None
    return throttle.wait()
