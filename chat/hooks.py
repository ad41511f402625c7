"""Hooks that a higher layer supplies (DESIGN.md: a protocol plus a settings path).

Matches live in ``dating``, above chat; chat never imports it. Message requests and
group invitations need to know who is matched with whom, so dating provides:

- ``MEETNOW_CHAT_MATCHED_CHECK``: ``(*, user_id, other_ids) -> set[int]``, which of
  ``other_ids`` have a live match with ``user_id`` (one query). Empty: nobody is
  matched (every stranger's first messages are a request).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class MatchedCheck(Protocol):
    def __call__(self, *, user_id: int, other_ids: Collection[int]) -> set[int]: ...


def matched_user_ids(*, user_id: int, other_ids: Collection[int]) -> set[int]:
    """Which of ``other_ids`` are matched with ``user_id`` (through the upper layer)."""
    path: str = settings.MEETNOW_CHAT_MATCHED_CHECK
    if not path or not other_ids:
        return set()
    check: MatchedCheck = import_string(path)
    return set(check(user_id=user_id, other_ids=other_ids))
