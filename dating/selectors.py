"""Reads of voice posts: who may see what, the feed, a user's posts, comments.

Visibility (P11) is one set of SQL conditions used by every read and every write
that needs a post (like, comment, listen, report), so a post nobody may see is a
404 everywhere alike. Each list runs a fixed number of queries whatever its size:
the page (authors, their profile files and the voice file joined), and one query
for the page's photos.
"""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Block, User
from accounts.selectors import user_public_get
from dating.matching import match_exists_q
from dating.models import Audience, PostComment, PostLike, PostPhoto, VoicePost
from media.models import Status as MediaStatus
from meetnow.lib.errors import NotFoundError


def parse_post_uuid(value: Any) -> uuid_lib.UUID:
    try:
        return uuid_lib.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Post not found.")) from None


def _blocked_either_way(viewer_id: int, user_field: str) -> Exists:
    return Exists(
        Block.objects.filter(
            Q(blocker_id=viewer_id, blocked_id=OuterRef(user_field))
            | Q(blocker_id=OuterRef(user_field), blocked_id=viewer_id)
        )
    )


def _voice_in_bounds() -> Q:
    """The clip is processed and 1-60 s long (media accepts up to its own, longer limit)."""
    return Q(
        voice__status=MediaStatus.READY,
        voice__duration_ms__gte=settings.DATING_VOICE_MIN_SECONDS * 1000,
        voice__duration_ms__lte=settings.DATING_VOICE_MAX_SECONDS * 1000 + 50,
    )


def _photo_unready() -> Exists:
    return Exists(
        PostPhoto.objects.filter(
            post_id=OuterRef("pk"), media__status__in=[MediaStatus.PENDING, MediaStatus.REJECTED]
        )
    )


def _with_page_relations(posts: QuerySet[VoicePost], viewer: User) -> QuerySet[VoicePost]:
    return (
        posts.select_related("author", "author__avatar", "author__voice_intro", "voice")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=PostPhoto.objects.select_related("media").order_by("position"),
            )
        )
        .annotate(
            liked_by_me=Exists(PostLike.objects.filter(post_id=OuterRef("pk"), user_id=viewer.pk))
        )
    )


def _published_q() -> Q:
    """Live, media processed and in bounds, author active (the same for every viewer)."""
    return Q(
        _voice_in_bounds(),
        ~_photo_unready(),
        deleted_at__isnull=True,
        taken_down_at__isnull=True,
        author__is_active=True,
        author__banned_at__isnull=True,
        author__is_staff=False,
    )


def _visible_q(viewer: User) -> Q:
    """Other people's posts the viewer may open: published, for everyone or (``matches``)
    for people the author has a live match with, no block either way (P11)."""
    return Q(
        _published_q(),
        ~Q(author_id=viewer.pk),
        ~_blocked_either_way(viewer.pk, "author_id"),
        Q(audience=Audience.PUBLIC)
        | Q(match_exists_q(viewer.pk, "author_id"), audience=Audience.MATCHES),
    )


def posts_visible_to(*, viewer: User) -> QuerySet[VoicePost]:
    return VoicePost.objects.filter(_visible_q(viewer))


def feed(*, viewer: User) -> QuerySet[VoicePost]:
    """Recent public posts of people who did not hide themselves from discover."""
    return _with_page_relations(
        posts_visible_to(viewer=viewer).filter(
            author__hidden_from_discover=False, audience=Audience.PUBLIC
        ),
        viewer,
    )


def posts_of_user(*, viewer: User, user_uuid: Any) -> QuerySet[VoicePost]:
    """One person's posts: all of mine (pending, rejected, taken down too), or the
    ones the viewer may see of someone else (404 for a blocked or banned person)."""
    author = user_public_get(viewer=viewer, user_uuid=user_uuid)
    if author.pk == viewer.pk:
        posts = VoicePost.objects.filter(author_id=viewer.pk, deleted_at__isnull=True)
    else:
        posts = posts_visible_to(viewer=viewer).filter(author_id=author.pk)
    return _with_page_relations(posts, viewer)


def post_access(*, viewer: User, post_uuid: Any, with_relations: bool = False) -> VoicePost:
    """A post the viewer may see (their own, in any state but deleted); 404 otherwise."""
    pid = parse_post_uuid(post_uuid)
    mine = Q(author_id=viewer.pk, deleted_at__isnull=True)
    posts = VoicePost.objects.filter(mine | _visible_q(viewer), uuid=pid)
    if with_relations:
        posts = _with_page_relations(posts, viewer)
    post = posts.first()
    if post is None:
        raise NotFoundError(_("Post not found."))
    return post


def comments_of(*, viewer: User, post: VoicePost) -> QuerySet[PostComment]:
    """Comments on a post the viewer may see: not taken down (the comment's author still
    sees theirs, marked), not by someone blocked either way, banned or deactivated."""
    return (
        PostComment.objects.filter(
            post_id=post.pk, author__is_active=True, author__banned_at__isnull=True
        )
        .filter(Q(taken_down_at__isnull=True) | Q(author_id=viewer.pk))
        .filter(~_blocked_either_way(viewer.pk, "author_id"))
        .select_related("author", "author__avatar", "author__voice_intro")
    )


def post_state(post: VoicePost) -> str:
    """What the author sees: ``pending`` (files processing), ``published``,
    ``rejected`` (a file refused, or the clip outside 1-60 s), ``taken_down``."""
    if post.taken_down_at is not None:
        return "taken_down"
    voice = post.voice
    photos = [p.media for p in post.photos.all() if p.media is not None]
    gone = (MediaStatus.REJECTED, MediaStatus.REMOVED_BY_MODERATOR)
    if voice is None or voice.status in gone:
        return "rejected"
    if any(m.status == MediaStatus.REJECTED for m in photos):
        return "rejected"
    if voice.status == MediaStatus.PENDING or any(m.status == MediaStatus.PENDING for m in photos):
        return "pending"
    duration = voice.duration_ms or 0
    low = settings.DATING_VOICE_MIN_SECONDS * 1000
    high = settings.DATING_VOICE_MAX_SECONDS * 1000 + 50
    return "published" if low <= duration <= high else "rejected"


def post_liked_by(*, user: User, post: VoicePost) -> bool:
    return PostLike.objects.filter(post_id=post.pk, user_id=user.pk).exists()
