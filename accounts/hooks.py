"""Hooks that a higher layer supplies (DESIGN.md: a protocol plus a settings path).

Likes, passes and matches live in ``dating``, above accounts; accounts never imports
it. Discover must still leave out the people a viewer already answered, so dating
provides:

- ``MEETNOW_DISCOVER_EXCLUSIONS``: dotted paths of callables
  ``(*, viewer_id, user_field) -> Q`` whose condition on the user in ``user_field``
  (``"pk"`` for a ``User`` queryset) means "not for this viewer's discover". Each is
  applied in SQL, so discover stays one query whatever the page size. Empty: only
  accounts' own rules apply.
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.db.models import Q
from django.utils.module_loading import import_string


class DiscoverExclusion(Protocol):
    def __call__(self, *, viewer_id: int, user_field: str) -> Q: ...


def discover_exclusions(*, viewer_id: int) -> list[Q]:
    """The upper layers' conditions that take a user out of the viewer's discover."""
    paths: list[str] = settings.MEETNOW_DISCOVER_EXCLUSIONS
    out = []
    for path in paths:
        exclusion: DiscoverExclusion = import_string(path)
        out.append(exclusion(viewer_id=viewer_id, user_field="pk"))
    return out
