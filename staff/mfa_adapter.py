"""allauth.mfa adapter: TOTP secrets and recovery-code seeds encrypted at rest (P12).

allauth stores them in ``mfa.Authenticator.data`` through ``encrypt``/``decrypt``,
which are the identity by default. Here they are Fernet tokens (AES + HMAC) under
``MEETNOW_MFA_ENCRYPTION_KEYS`` (first key encrypts, every key decrypts, so a key
can be rotated); by default one key derived from ``SECRET_KEY``. A database dump
alone then no longer yields staff second factors.
"""

from __future__ import annotations

import base64
import hashlib

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

FERNET_PREFIX = "gAAAA"


def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "MEETNOW_MFA_ENCRYPTION_KEYS", []) or [])
    if not keys:
        digest = hashlib.sha256(f"meetnow.mfa:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]  # allauth ships no types
    def encrypt(self, text: str) -> str:
        return _fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(FERNET_PREFIX):
            # Stored before encryption was switched on: still readable, re-encrypted
            # the next time allauth saves it.
            return encrypted_text
        try:
            return _fernet().decrypt(encrypted_text.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                "A staff authenticator can't be decrypted: MEETNOW_MFA_ENCRYPTION_KEYS (or "
                "SECRET_KEY) changed without keeping the old key."
            ) from exc
