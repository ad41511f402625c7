"""Hooks that a higher layer supplies (DESIGN.md: a protocol plus a settings path).

accounts never imports privacy; privacy records the separate consent for sensitive
personal information and erases accounts, so it provides both callables:

- ``IDENTITY_CONSENT_CHECK``: ``(*, user_id) -> bool``, whether the user gave the
  separate consent to the current identity verification notice (and did not
  withdraw it). Empty: nobody can start a verification.
- ``IDENTITY_MINOR_HANDLER``: ``(*, user_id) -> None``, called after commit when a
  verified ID shows the user is under ``MEETNOW_MIN_AGE`` (P14: the account is
  already locked; the handler erases it). Empty: the account stays locked.
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class ConsentCheck(Protocol):
    def __call__(self, *, user_id: int) -> bool: ...


class MinorHandler(Protocol):
    def __call__(self, *, user_id: int) -> None: ...


def sensitive_consent_given(*, user_id: int) -> bool:
    path: str = settings.IDENTITY_CONSENT_CHECK
    if not path:
        return False
    check: ConsentCheck = import_string(path)
    return bool(check(user_id=user_id))


def minor_handle(*, user_id: int) -> None:
    path: str = settings.IDENTITY_MINOR_HANDLER
    if not path:
        return
    handler: MinorHandler = import_string(path)
    handler(user_id=user_id)
