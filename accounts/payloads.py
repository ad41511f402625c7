"""Response bodies of accounts' API: one function per object (docs/architecture.md,
"Output shape").

The whole API builds its answers the same way: a payload function turns a model or a
row into plain JSON types (ids as UUID strings, times through
``meetnow.lib.timestamps.iso``, so always UTC ``Z`` whatever the reader's zone), and
the view returns it. The serializers beside the views only declare the schema and
validate input; ``tests/accounts/test_payloads.py`` checks each body against them.
"""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.models import SocialAccount
from django.conf import settings

from accounts.models import Block, Device, SecurityEvent, User
from accounts.selectors import SessionInfo, age_in_years
from media.models import MediaFile
from media.services import media_file_signed_urls
from meetnow.lib.i18n import phone_display, user_time_zone
from meetnow.lib.timestamps import iso


def _age(user: User) -> int | None:
    if user.date_of_birth is None:
        return None
    return age_in_years(date_of_birth=user.date_of_birth)


def profile_media_payload(media_file: MediaFile) -> dict[str, Any]:
    """A profile photo or voice intro with signed URLs to its copies (P11, P12).

    Accounts decided the viewer may see the profile, so it asks media to sign;
    profile media get the longer ``MEETNOW_MEDIA_PROFILE_URL_TTL``.
    """
    return {
        "id": str(media_file.uuid),
        "status": media_file.status,
        "kind": media_file.kind,
        "width": media_file.width,
        "height": media_file.height,
        "duration_ms": media_file.duration_ms,
        "urls": media_file_signed_urls(
            media_file=media_file, ttl=settings.MEETNOW_MEDIA_PROFILE_URL_TTL
        ),
    }


def _public_media(media_file: MediaFile | None) -> dict[str, Any] | None:
    if media_file is None or not media_file.is_ready:
        return None
    return profile_media_payload(media_file)


def _own_media(media_file: MediaFile | None) -> dict[str, Any] | None:
    """The owner sees their own media while it is still processing."""
    return profile_media_payload(media_file) if media_file is not None else None


def public_profile_payload(user: User) -> dict[str, Any]:
    """What anyone may see of a user (P11): never birth date, phone, devices or IPs."""
    return {
        "id": str(user.uuid),
        "nickname": user.nickname,
        "gender": user.gender,
        "age": _age(user),
        # The identity badge (P7): the only thing others learn of a verification.
        "verified": bool(user.identity_verified),
        "avatar": _public_media(user.avatar),
        "voice_intro": _public_media(user.voice_intro),
    }


def me_payload(user: User) -> dict[str, Any]:
    """The account as its owner sees it (``GET /me``)."""
    return {
        "id": str(user.uuid),
        "phone": None if user.phone is None else str(user.phone),
        # The number as its owner reads it (national format in their own region).
        "phone_display": phone_display(user.phone),
        "phone_verified": bool(user.phone_verified),
        "language": user.language,
        # The zone texts use: the one the app sent, else the language's default.
        "time_zone": str(user_time_zone(user)),
        "nickname": user.nickname,
        "gender": user.gender,
        "bio": user.bio,
        "date_of_birth": iso(user.date_of_birth),
        "age": _age(user),
        "identity_verified": bool(user.identity_verified),
        "push_enabled": bool(user.push_enabled),
        "hidden_from_discover": bool(user.hidden_from_discover),
        "dm_from": user.dm_from,
        "date_joined": iso(user.date_joined),
        "avatar": _own_media(user.avatar),
        "voice_intro": _own_media(user.voice_intro),
    }


def block_payload(block: Block) -> dict[str, Any]:
    return {"user": public_profile_payload(block.blocked), "created_at": iso(block.created_at)}


def device_payload(device: Device, *, session_key: str) -> dict[str, Any]:
    """A device of the user; ``current`` when it registered from this session."""
    return {
        "id": device.pk,
        "device_id": device.device_id,
        "platform": device.platform,
        "model": device.model,
        "os_version": device.os_version,
        "app_version": device.app_version,
        "network_type": device.network_type,
        "push_enabled": bool(device.push_enabled),
        "has_push_token": bool(device.push_token),
        "created_at": iso(device.created_at),
        "last_seen_at": iso(device.last_seen_at),
        "current": bool(device.session_key) and device.session_key == session_key,
    }


def linked_account_payload(account: SocialAccount) -> dict[str, Any]:
    return {
        "id": account.pk,
        "provider": account.provider,
        "date_joined": iso(account.date_joined),
    }


def session_payload(session: SessionInfo, *, session_key: str) -> dict[str, Any]:
    return {
        "id": session.id,
        "created_at": iso(session.created_at),
        "last_seen_at": iso(session.last_seen_at),
        "ip_address": session.ip_address,
        "current": session.current,
        "device": (
            device_payload(session.device, session_key=session_key)
            if session.device is not None
            else None
        ),
    }


def security_event_payload(event: SecurityEvent) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "created_at": iso(event.created_at),
        "ip_address": event.ip_address,
        "device_id": event.device_id,
    }
