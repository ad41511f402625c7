"""The provider's profile picture as the avatar, only if the user chooses it (P3).

A social sign-up reads the provider's public profile (nickname, avatar URL, gender).
The picture becomes the profile photo only when the sign-up says
``use_provider_avatar: true``; then the worker downloads it once (size-limited, with a
timeout) and hands it to the media pipeline like any upload (type sniffed, decoded,
re-encoded without metadata), so it shows once processed. Otherwise nothing is fetched.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import httpx
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.files.base import ContentFile

from accounts.models import User
from accounts.services import user_profile_update
from media.models import Purpose
from media.services import max_bytes, media_file_upload
from meetnow.lib.errors import ApplicationError

logger = logging.getLogger(__name__)

# Where each provider's public profile keeps the picture's URL (accounts.adapter keeps
# only these public fields).
AVATAR_FIELDS = {"wechat": "headimgurl", "google": "picture", "facebook": "picture"}


def provider_avatar_url(*, provider: str, extra_data: dict[str, Any]) -> str:
    """The http(s) URL of the provider's picture, or ``""``."""
    value: Any = extra_data.get(AVATAR_FIELDS.get(provider, ""))
    if isinstance(value, dict):  # Facebook: {"data": {"url": ...}}
        value = (value.get("data") or {}).get("url")
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
        return ""
    return value


def _download(url: str, limit: int) -> bytes | None:
    try:
        with httpx.stream(
            "GET", url, timeout=settings.MEETNOW_PROVIDER_AVATAR_TIMEOUT, follow_redirects=True
        ) as response:
            response.raise_for_status()
            data = bytearray()
            for chunk in response.iter_bytes(64 * 1024):
                data += chunk
                if len(data) > limit:
                    return None
            return bytes(data)
    except httpx.HTTPError:
        return None


def user_avatar_from_provider(*, user_id: int) -> bool:
    """Make the provider's picture the user's avatar (the user chose it); True if done.

    Does nothing when the user already has an avatar or the provider gave no picture;
    a picture that can't be fetched or isn't an accepted image is dropped (logged
    without the URL), the account stays as it is.
    """
    user = User.objects.filter(pk=user_id, avatar__isnull=True).first()
    account = SocialAccount.objects.filter(user_id=user_id).order_by("-id").first()
    if user is None or account is None:
        return False
    url = provider_avatar_url(provider=account.provider, extra_data=account.extra_data or {})
    if not url:
        return False
    data = _download(url, max_bytes("image"))
    if not data:
        logger.info("provider avatar of user %s not fetched", user_id)
        return False
    try:
        upload = media_file_upload(
            owner=user, purpose=Purpose.AVATAR, upload=ContentFile(data, name="avatar")
        )
        user_profile_update(user=user, data={"avatar": upload.uuid})
    except ApplicationError as exc:
        logger.info("provider avatar of user %s refused: %s", user_id, exc.code)
        return False
    return True
