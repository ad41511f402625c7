"""JSON bodies of posts and comments (built from rows the selectors fetched: no queries).

Files are shown through short-lived signed URLs that media signs once dating has
decided the viewer may see the post (P11, P12). The author card is accounts'
public profile (never phone or birth date).

The feed builds its items from plain rows (``dating.selectors.feed_rows``) with
``feed_items_payload``: the same body as ``post_payload`` gives another person's post,
without model instances or serializers, and with every URL of the page signed in one
go (``media.services.media_signed_urls``). tests/dating/test_feed_hot_path.py holds
the two to the same output.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings

from accounts.models import User
from accounts.payloads import public_profile_payload
from accounts.selectors import age_in_years
from dating.models import PostComment, PostReport, VoicePost
from dating.selectors import post_state
from media.models import MediaFile
from media.models import Status as MediaStatus
from media.services import media_file_signed_urls, media_signed_urls
from meetnow.lib.timestamps import iso


def _file(media_file: MediaFile | None) -> dict[str, Any] | None:
    if media_file is None or not media_file.is_ready:
        return None
    return {
        "id": str(media_file.uuid),
        "duration_ms": media_file.duration_ms,
        "width": media_file.width,
        "height": media_file.height,
        "urls": media_file_signed_urls(media_file=media_file),
    }


def author_card(user: User) -> dict[str, Any]:
    return public_profile_payload(user)


def post_payload(post: VoicePost, *, viewer: User) -> dict[str, Any]:
    mine = post.author_id == viewer.pk
    state = post_state(post) if mine else "published"
    shown = state != "taken_down"
    photos = [_file(p.media) for p in post.photos.all()] if shown else []
    return {
        "id": str(post.uuid),
        "author": author_card(post.author),
        "caption": post.caption,
        "audience": post.audience,
        "state": state,
        "created_at": iso(post.created_at),
        "voice": _file(post.voice) if shown else None,
        "photos": [p for p in photos if p is not None],
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        # Only the author learns how many played it to the end.
        "listen_count": post.listen_count if mine else None,
        "liked_by_me": bool(getattr(post, "liked_by_me", False)),
    }


def _profile_file(row: dict[str, Any], prefix: str, urls: dict[Any, Any]) -> Any:
    """``ProfileMediaSerializer``'s body, from the row's ``<prefix>__*`` columns."""
    if row[f"{prefix}__status"] != MediaStatus.READY:
        return None
    media_uuid = row[f"{prefix}__uuid"]
    return {
        "id": str(media_uuid),
        "status": row[f"{prefix}__status"],
        "kind": row[f"{prefix}__kind"],
        "width": row[f"{prefix}__width"],
        "height": row[f"{prefix}__height"],
        "duration_ms": row[f"{prefix}__duration_ms"],
        "urls": urls[media_uuid],
    }


def _feed_file(media_uuid: Any, row: dict[str, Any], prefix: str, urls: Iterator[Any]) -> Any:
    return {
        "id": str(media_uuid),
        "duration_ms": row[f"{prefix}__duration_ms"],
        "width": row[f"{prefix}__width"],
        "height": row[f"{prefix}__height"],
        "urls": next(urls),
    }


def feed_items_payload(
    rows: list[dict[str, Any]], photos: dict[int, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Feed items from ``feed_rows`` and ``feed_photos``: ``post_payload`` of each post
    as a viewer who is not its author sees it (the feed never holds their own)."""
    ready = MediaStatus.READY
    # The clips and photos with the default lifetime, the authors' profile files
    # (each once per page) with the profile one, as accounts signs them.
    files: list[tuple[Any, dict[str, Any]]] = []
    profile: dict[Any, dict[str, Any]] = {}
    for row in rows:
        files.append((row["voice__uuid"], row["voice__variants"]))
        files.extend(
            (photo["media__uuid"], photo["media__variants"])
            for photo in photos.get(row["id"], ())
            if photo["media__status"] == ready
        )
        for prefix in ("author__avatar", "author__voice_intro"):
            if row[f"{prefix}__status"] == ready:
                profile[row[f"{prefix}__uuid"]] = row[f"{prefix}__variants"]
    urls = iter(media_signed_urls(files=files))  # taken in the same order below
    signed = media_signed_urls(
        files=list(profile.items()), ttl=settings.MEETNOW_MEDIA_PROFILE_URL_TTL
    )
    profile_urls = dict(zip(profile, signed, strict=True))
    items = []
    for row in rows:
        born = row["author__date_of_birth"]
        voice = _feed_file(row["voice__uuid"], row, "voice", urls)
        items.append(
            {
                "id": str(row["uuid"]),
                "author": {
                    "id": str(row["author__uuid"]),
                    "nickname": str(row["author__nickname"]),
                    "gender": str(row["author__gender"]),
                    "age": None if born is None else age_in_years(date_of_birth=born),
                    "verified": bool(row["author__identity_verified"]),
                    "avatar": _profile_file(row, "author__avatar", profile_urls),
                    "voice_intro": _profile_file(row, "author__voice_intro", profile_urls),
                },
                "caption": row["caption"],
                "audience": row["audience"],
                "state": "published",
                "created_at": iso(row["created_at"]),
                "voice": voice,
                "photos": [
                    _feed_file(photo["media__uuid"], photo, "media", urls)
                    for photo in photos.get(row["id"], ())
                    if photo["media__status"] == ready
                ],
                "like_count": row["like_count"],
                "comment_count": row["comment_count"],
                "listen_count": None,
                "liked_by_me": bool(row["liked_by_me"]),
            }
        )
    return items


def comment_payload(comment: PostComment, *, viewer: User, post: VoicePost) -> dict[str, Any]:
    return {
        "id": str(comment.uuid),
        "author": author_card(comment.author),
        "text": comment.text,
        "created_at": iso(comment.created_at),
        "taken_down": comment.taken_down_at is not None,
        "can_delete": viewer.pk in (comment.author_id, post.author_id),
    }


def report_payload(report: PostReport) -> dict[str, Any]:
    return {
        "id": str(report.uuid),
        "reason": report.reason,
        "details": report.details,
        "post": str(report.post.uuid) if report.post else None,
        "comment": str(report.comment.uuid) if report.comment else None,
        "status": report.status,
        "outcome": report.outcome or None,
        "created_at": iso(report.created_at),
        "resolved_at": iso(report.resolved_at),
    }
