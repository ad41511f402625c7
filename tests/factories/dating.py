"""Builders for dating tests: processed uploads and published voice posts."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from dating import services
from dating.models import VoicePost
from media.models import Kind, MediaFile, Purpose, Status


def media(
    owner: User,
    *,
    kind: str = Kind.AUDIO,
    status: str = Status.READY,
    duration_ms: int | None = 12_000,
) -> MediaFile:
    """An upload of ``owner`` as the media worker leaves it (no bytes in storage: the
    signed URLs are made from the row alone)."""
    purpose = Purpose.DATING_VOICE if kind == Kind.AUDIO else Purpose.DATING_PHOTO
    ready = status == Status.READY
    ext = "m4a" if kind == Kind.AUDIO else "jpg"
    media_file = MediaFile(
        owner=owner,
        purpose=purpose,
        kind=kind,
        status=status,
        sniffed_type="audio/mp4" if kind == Kind.AUDIO else "image/jpeg",
        size=1000,
        duration_ms=duration_ms if kind == Kind.AUDIO else None,
        width=None if kind == Kind.AUDIO else 800,
        height=None if kind == Kind.AUDIO else 600,
    )
    if ready:
        media_file.variants = {
            "original": {
                "key": f"f/{media_file.storage_prefix}/original.{ext}",
                "content_type": media_file.sniffed_type,
                "size": 1000,
            }
        }
    media_file.save()
    return media_file


def make_post(
    author: User,
    *,
    caption: str = "hello",
    photos: int = 0,
    audience: str = "public",
    voice: MediaFile | None = None,
    **extra: Any,
) -> VoicePost:
    voice = voice or media(author)
    photo_files = [media(author, kind=Kind.IMAGE) for _ in range(photos)]
    return services.post_publish(
        author=author,
        voice=voice.uuid,
        caption=caption,
        photos=[p.uuid for p in photo_files],
        audience=audience,
        **extra,
    )
