"""Switch off routes that a third-party URL conf brings, keeping their names.

allauth registers every flow it knows (e-mail, passwords, HTML pages); this
phone-only app offers a few. Removing the patterns would break allauth's own
``reverse()`` calls, so the unwanted ones stay registered and answer 404.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver


def walk(
    patterns: Iterable[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """Every leaf pattern with its full route (regex parts as written)."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def gate(view: Callable[..., HttpResponse], enabled: Callable[[], bool]) -> Callable[..., Any]:
    """``view`` while ``enabled()`` says so (checked per request), else a 404."""

    @functools.wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not enabled():
            raise Http404
        return view(request, *args, **kwargs)

    gated.meetnow_gated = True  # type: ignore[attr-defined]
    gated.meetnow_enabled = enabled  # type: ignore[attr-defined]
    return gated


def switched_off(path: str) -> bool:
    """Whether ``path`` (an OpenAPI path; ``{name}`` placeholders allowed) answers 404
    because :func:`gate` turned it off."""
    from django.urls import Resolver404, resolve

    concrete = re.sub(r"\{[^}]+\}", "1", path)
    try:
        match = resolve(concrete)
    except Resolver404:
        return False
    enabled = getattr(match.func, "meetnow_enabled", None)
    return enabled is not None and not enabled()


def switch_off(
    patterns: Iterable[URLPattern | URLResolver],
    *,
    keep: Callable[[str, URLPattern], bool],
    enabled: Callable[[], bool] = lambda: False,
) -> None:
    """Gate every leaf of ``patterns`` that ``keep(route, pattern)`` rejects (in place)."""
    for route, pattern in walk(patterns):
        if not keep(route, pattern) and not getattr(pattern.callback, "meetnow_gated", False):
            pattern.callback = gate(pattern.callback, enabled)
