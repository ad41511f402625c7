"""JSON bodies of posts and comments (built from rows the selectors fetched: no queries).

Files are shown through short-lived signed URLs that media signs once dating has
decided the viewer may see the post (P11, P12). The author card is accounts'
public profile (never phone or birth date).
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.payloads import public_profile_payload
from dating.models import PostComment, PostReport, VoicePost
from dating.selectors import post_state
from media.models import MediaFile
from media.services import media_file_signed_urls


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
        "created_at": post.created_at.isoformat(),
        "voice": _file(post.voice) if shown else None,
        "photos": [p for p in photos if p is not None],
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        # Only the author learns how many played it to the end.
        "listen_count": post.listen_count if mine else None,
        "liked_by_me": bool(getattr(post, "liked_by_me", False)),
    }


def comment_payload(comment: PostComment, *, viewer: User, post: VoicePost) -> dict[str, Any]:
    return {
        "id": str(comment.uuid),
        "author": author_card(comment.author),
        "text": comment.text,
        "created_at": comment.created_at.isoformat(),
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
        "created_at": report.created_at.isoformat(),
        "resolved_at": report.resolved_at.isoformat() if report.resolved_at else None,
    }
