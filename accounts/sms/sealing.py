"""Seal the number and code a delivery task carries, so the broker never holds them in clear.

Celery messages sit in the broker and show up in worker logs ("Can't retry ...
kwargs: ..."); the task therefore receives a Fernet token (AES + HMAC, key derived
from ``SECRET_KEY``) that expires with the code (P18).
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SealBrokenError(Exception):
    """The token is expired, tampered with, or sealed with another key."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"meetnow.sms.seal:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(*, to: str, code: str) -> str:
    return _fernet().encrypt(json.dumps({"to": to, "code": code}).encode()).decode()


def unseal(token: str, *, max_age: int) -> tuple[str, str]:
    """The ``(to, code)`` sealed in ``token`` if it is at most ``max_age`` seconds old."""
    try:
        data = json.loads(_fernet().decrypt(token.encode(), ttl=max_age))
    except (InvalidToken, ValueError) as exc:
        raise SealBrokenError("cannot open the sealed delivery") from exc
    return str(data["to"]), str(data["code"])
