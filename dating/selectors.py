"""Reads of voice posts: who may see what, the feed, a user's posts, comments.

Visibility (P11) is one set of SQL conditions used by every read and every write
that needs a post (like, comment, listen, report), so a post nobody may see is a
404 everywhere alike. Each list runs a fixed number of queries whatever its size:
the page (authors, their profile files and the voice file joined), and one query
for the page's photos.

The feed is the hottest read, so it also has a fast path: ``feed_rows`` and
``feed_photos`` return plain rows (no model instances) for
``dating.payloads.feed_item_payload``, and the page's SQL is compiled once per process
(``meetnow.lib.querytemplate``) from the same ``feed`` queryset, so both paths apply
the same visibility conditions.
"""

from __future__ import annotations

import uuid as uuid_lib
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connections
from django.db.models import Exists, JSONField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils.translation import gettext as _

from accounts.models import Block, User
from accounts.selectors import user_public_get
from dating.matching import match_exists_q
from dating.models import Audience, PostComment, PostLike, PostPhoto, VoicePost
from media.models import Status as MediaStatus
from meetnow.lib.errors import NotFoundError
from meetnow.lib.querytemplate import QueryTemplate


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
        .annotate(liked_by_me=_liked_by(viewer))
    )


def _liked_by(viewer: User) -> Exists:
    return Exists(PostLike.objects.filter(post_id=OuterRef("pk"), user_id=viewer.pk))


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


def _feed_posts(viewer: User) -> QuerySet[VoicePost]:
    return posts_visible_to(viewer=viewer).filter(
        author__hidden_from_discover=False, audience=Audience.PUBLIC
    )


def feed(*, viewer: User) -> QuerySet[VoicePost]:
    """Recent public posts of people who did not hide themselves from discover."""
    return _with_page_relations(_feed_posts(viewer), viewer)


# Placeholders that stand for the viewer and the cursor position in the compiled feed.
_VIEWER = -7_300_000_001
_POSITION = -7_300_000_002

_PROFILE_FILE = ("uuid", "status", "kind", "width", "height", "duration_ms", "variants")
FEED_ROW_FIELDS = (
    "id",
    "uuid",
    "caption",
    "audience",
    "created_at",
    "like_count",
    "comment_count",
    "author__uuid",
    "author__nickname",
    "author__gender",
    "author__date_of_birth",
    "author__identity_verified",
    *(f"author__avatar__{name}" for name in _PROFILE_FILE),
    *(f"author__voice_intro__{name}" for name in _PROFILE_FILE),
    "voice__uuid",
    "voice__duration_ms",
    "voice__width",
    "voice__height",
    "voice__variants",
)


@lru_cache(maxsize=64)
def _feed_template(
    alias: str, descending: bool, after: bool | None, offset: int, limit: int, bounds: Any
) -> QueryTemplate:
    """The feed page's SQL for one shape of request; ``after`` is None without a
    cursor position, else whether the page starts after it (``id <``) in the feed's
    newest-first order. ``bounds`` (the settings inlined) is part of the key."""
    viewer = User(pk=_VIEWER)
    posts = _feed_posts(viewer).using(alias).annotate(liked_by_me=_liked_by(viewer))
    if after is not None:
        posts = posts.filter(id__lt=_POSITION) if after else posts.filter(id__gt=_POSITION)
    posts = posts.order_by("-id" if descending else "id")
    extra = ["liked_by_me"]
    if connections[alias].vendor == "postgresql":
        # The page's photos in the same query, one JSON array per post: one round trip.
        posts = posts.annotate(photo_items=_photos_json())
        extra.append("photo_items")
    rows = posts.values(*FEED_ROW_FIELDS, *extra)[offset : offset + limit]
    slots = {"viewer": _VIEWER} | ({} if after is None else {"position": _POSITION})
    return QueryTemplate.build(rows, slots)


def feed_rows(
    *,
    viewer: User,
    descending: bool = True,
    position: int | None = None,
    after: bool = True,
    offset: int = 0,
    limit: int,
) -> list[dict[str, Any]]:
    """The rows of one feed page (``feed``'s posts, as ``FEED_ROW_FIELDS`` plus
    ``liked_by_me``), in id order (``descending``), from ``offset`` rows past
    ``position`` (``after``: ids below it, else above), at most ``limit``."""
    bounds = (settings.DATING_VOICE_MIN_SECONDS, settings.DATING_VOICE_MAX_SECONDS)
    template = _feed_template(
        "default", descending, None if position is None else after, offset, limit, bounds
    )
    if position is None:
        return template.rows(viewer=viewer.pk)
    return template.rows(viewer=viewer.pk, position=position)


_PHOTO_FIELDS = (
    "media__uuid",
    "media__status",
    "media__width",
    "media__height",
    "media__duration_ms",
    "media__variants",
)


def _photos_json() -> Subquery:
    """A post's photos as a JSON array of ``feed_photos`` rows, in position order."""
    items = (
        PostPhoto.objects.filter(post_id=OuterRef("pk"))
        .values("post_id")
        .annotate(
            items=JSONBAgg(
                JSONObject(**{name: name for name in _PHOTO_FIELDS}), order_by="position"
            )
        )
        .values("items")
    )
    return Subquery(items, output_field=JSONField())


def feed_page_photos(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """The photos of a page of ``feed_rows``, by post: taken from the rows where the
    page query brought them (PostgreSQL), else one query (``feed_photos``)."""
    if not rows:
        return {}
    if "photo_items" not in rows[0]:
        return feed_photos(post_ids=[row["id"] for row in rows])
    photos: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        items = row["photo_items"] or []
        for item in items:
            if item["media__uuid"] is not None:
                item["media__uuid"] = uuid_lib.UUID(item["media__uuid"])
        photos[row["id"]] = items
    return photos


def feed_photos(*, post_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The photos of these posts (one query), by post, in position order; a photo whose
    file is gone has ``media__uuid`` None."""
    rows = (
        PostPhoto.objects.filter(post_id__in=post_ids)
        .order_by("post_id", "position")
        .values("post_id", *_PHOTO_FIELDS)
    )
    photos: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        photos.setdefault(row["post_id"], []).append(dict(row))
    return photos


def posts_of_user(*, viewer: User, user_uuid: Any) -> QuerySet[VoicePost]:
    """One person's posts: all of mine (pending, rejected, taken down too), or the
    ones the viewer may see of someone else (404 for a blocked or banned person)."""
    author = user_public_get(viewer=viewer, user_uuid=user_uuid)
    if author.pk == viewer.pk:
        posts = VoicePost.objects.filter(author_id=viewer.pk, deleted_at__isnull=True)
    else:
        posts = posts_visible_to(viewer=viewer).filter(author_id=author.pk)
    return _with_page_relations(posts, viewer)


_POST = uuid_lib.UUID("73000000-0000-4000-8000-000000000001")


_ACCESS_FIELDS = ("id", "uuid", "author_id")
_COUNT_FIELDS = ("like_count", "comment_count", "listen_count")


@lru_cache(maxsize=8)
def _access_template(alias: str, bounds: Any, fields: tuple[str, ...]) -> QueryTemplate:
    viewer = User(pk=_VIEWER)
    mine = Q(author_id=viewer.pk, deleted_at__isnull=True)
    posts = VoicePost.objects.using(alias).filter(mine | _visible_q(viewer), uuid=_POST)
    return QueryTemplate.build(posts.values(*fields)[:1], {"viewer": _VIEWER, "post": _POST})


def post_access_template() -> QueryTemplate:
    """``post_access``'s conditions compiled once per process (inputs ``viewer`` and
    ``post``, a UUID): at most one row of the post's ``id``, ``uuid``, ``author_id``
    and counts. For a write that checks visibility inside its own statement."""
    bounds = (settings.DATING_VOICE_MIN_SECONDS, settings.DATING_VOICE_MAX_SECONDS)
    return _access_template("default", bounds, _ACCESS_FIELDS + _COUNT_FIELDS)


def post_access_light(*, viewer: User, post_uuid: Any) -> VoicePost:
    """``post_access`` for the hot writes (like, unlike): the same conditions from SQL
    compiled once per process, and a post holding only ``id``, ``uuid`` and
    ``author_id`` (the counts are the caller's to fill in)."""
    pid = parse_post_uuid(post_uuid)
    bounds = (settings.DATING_VOICE_MIN_SECONDS, settings.DATING_VOICE_MAX_SECONDS)
    rows = _access_template("default", bounds, _ACCESS_FIELDS).rows(viewer=viewer.pk, post=pid)
    if not rows:
        raise NotFoundError(_("Post not found."))
    return VoicePost(**rows[0])


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
