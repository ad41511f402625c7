"""Signed download tokens for local storage (P12): an HMAC over file, variant and expiry.

In S3 mode the presigned URL is the capability; locally this token is. Both are only
minted by ``media.services.media_file_signed_url``, which callers use after their
own permission check. The token names the file by its public UUID and the variant,
so changing any character (to reach another file or variant, or to stretch the
expiry) breaks the signature.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

from django.core import signing

SALT = "media.download.v1"


class InvalidToken(Exception):
    code = "invalid_signature"


class ExpiredToken(InvalidToken):
    code = "url_expired"


@dataclass(frozen=True)
class Grant:
    media_uuid: uuid.UUID
    variant: str
    expires_at: int


def sign(*, media_uuid: uuid.UUID, variant: str, ttl: int) -> str:
    expires_at = math.ceil(time.time() + ttl)  # valid for at least ``ttl`` seconds
    return signing.Signer(salt=SALT).sign_object(
        {"f": media_uuid.hex, "v": variant, "x": expires_at}
    )


def verify(token: str) -> Grant:
    """The grant a token carries; raises InvalidToken or ExpiredToken."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
        grant = Grant(uuid.UUID(hex=payload["f"]), str(payload["v"]), int(payload["x"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidToken from exc
    if grant.expires_at < time.time():
        raise ExpiredToken
    return grant
