"""Keep the cyclic garbage collector's full collections short in a server process.

Python's cyclic collector runs a full (generation 2) collection when the objects that
survived earlier collections have grown by a quarter; it then walks **every** tracked
object in the process, with the event loop stopped. A server process holds about
175,000 tracked objects right after setup (Django, the URL conf, every imported module)
and they live as long as the process, yet every full collection walked them again:
about 100 ms on this 2-core machine for nothing found, and in the voice-match benchmark
such pauses, one to four per worker per phase, were the latency tail (docs/dating.md,
Voice match).

:func:`gc_freeze_setup`, run once by ``meetnow/asgi.py`` after Django is set up and the
application is built, loads what the first requests would load lazily and would then
keep (the URL resolver, each language's catalogue), collects once, then moves every
object alive at that moment into the permanent generation (``gc.freeze()``), which
collections skip. Objects created later (sockets, requests, caches) are collected as
before; a frozen object is still freed when its last reference goes, only a reference
cycle among frozen objects would never be collected, and the setup's objects live as
long as the process anyway. ``MEETNOW_GC_FREEZE=true`` turns it on; it is off by
default because it did not improve the voice-match tail (below).

What it does not shorten: the objects of the open sockets (300-650 each), which with
thousands of sockets are most of what a full collection walks; and since a full
collection comes when the unfrozen survivors have grown by a quarter, it comes more
often once the setup's objects no longer count. ``MEETNOW_GC_THRESHOLDS`` sets the
collector's thresholds (``gc.set_threshold``); by default ``700,10,1000``, so that a full
collection comes after 1,000 middle-generation collections instead of 10: rare rather
than short, which is what kept the voice-match tail down (docs/dating.md).
"""

from __future__ import annotations

import gc

from django.conf import settings


def gc_freeze_setup() -> int:
    """Warm the setup's lazy parts, collect, freeze what is alive: how many objects
    are in the permanent generation now (0 when ``MEETNOW_GC_FREEZE`` is off). Sets the
    collector's thresholds to ``MEETNOW_GC_THRESHOLDS`` first, when given."""
    if settings.MEETNOW_GC_THRESHOLDS:
        gc.set_threshold(*settings.MEETNOW_GC_THRESHOLDS)
    if not settings.MEETNOW_GC_FREEZE:
        return 0
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().reverse_dict  # noqa: B018  (populates the resolver)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):  # activating loads the language's catalogues
            pass
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
