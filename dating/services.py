"""Writes on voice posts: publish, delete, like, comment, listen (issue 14).

Each service owns its transaction; a count on the post changes in the same
transaction as the row it counts, by an atomic ``F()`` update, and only when the
row really changed (an insert that won its unique key, a delete that removed a
row), so counts never drift, retries and concurrent requests included. The author
learns of likes and comments through their event stream (chat's events, WebSocket
+ sync) and an ID-only push, at most one per burst (``DATING_PUSH_WINDOW_SECONDS``).
Policy ids: P10 (push preferences), P11 (visibility, blocks), P12 (media through
media's pipeline and signed URLs), P13 (deletion), P18 (no text in logs).
"""

from __future__ import annotations

import logging
import time
import uuid as uuid_lib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity.permissions import verified_required
from accounts.models import User
from chat.events import PendingEvent, events_append, events_deliver
from chat.models import Event, EventStream
from dating.models import (
    Audience,
    PostComment,
    PostLike,
    PostListen,
    PostPhoto,
    VoicePost,
)
from dating.reports import evidence_file_ids_held
from dating.selectors import (
    parse_post_uuid,
    post_access,
    post_access_light,
    post_access_template,
)
from media.models import Kind, MediaFile, Purpose
from media.models import Status as MediaStatus
from media.services import media_file_attach, media_file_delete
from meetnow.lib.afterresponse import after_response
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.outbox import task_send

logger = logging.getLogger(__name__)

CAPTION_MAX = 300
COMMENT_MAX = 500
PHOTOS_MAX = 4


class DatingEvent:
    POST_LIKED = "dating.post_liked"
    POST_COMMENTED = "dating.post_commented"
    POST_UPDATED = "dating.post_updated"


# --- Publish and delete ---------------------------------------------------------------


def _attach(*, author: User, media: Any, purpose: str, kind: str, param: str) -> MediaFile:
    try:
        media_file = media_file_attach(owner=author, media_uuid=media, purposes=(purpose,))
    except ApplicationError as exc:
        raise ApplicationError(exc.code, exc.message, param=param) from exc
    if media_file.kind != kind:
        raise ApplicationError(
            "media_kind_mismatch",
            _("This needs a file of kind %(kind)s.") % {"kind": kind},
            param=param,
        )
    return media_file


def _voice_check(voice: MediaFile) -> None:
    """A processed clip must already be 1-60 s; a pending one is judged when ready."""
    if voice.status != MediaStatus.READY or voice.duration_ms is None:
        return
    seconds = voice.duration_ms / 1000
    if seconds < settings.DATING_VOICE_MIN_SECONDS:
        raise ApplicationError("voice_too_short", _("The clip is too short."), param="voice")
    if voice.duration_ms > settings.DATING_VOICE_MAX_SECONDS * 1000 + 50:
        raise ApplicationError("voice_too_long", _("The clip is too long."), param="voice")


def post_publish(
    *,
    author: User,
    voice: Any,
    caption: str = "",
    photos: Sequence[Any] = (),
    audience: str = Audience.PUBLIC,
) -> VoicePost:
    """Publish a voice post: the author's own ``dating_voice`` upload, an optional
    caption (≤ 300) and up to 4 ``dating_photo`` uploads (P12: processed, metadata
    stripped by media). Others see it once every file is processed (P11)."""
    verified_required(user=author, function="posts")
    text = str(caption or "").strip()
    if len(text) > CAPTION_MAX:
        raise ApplicationError(
            "caption_too_long",
            _("At most %(count)d characters.") % {"count": CAPTION_MAX},
            param="caption",
        )
    if audience not in Audience.values:
        raise ApplicationError("invalid_audience", _("Unknown audience."), param="audience")
    if len(photos) > PHOTOS_MAX:
        raise ApplicationError(
            "too_many_photos",
            _("At most %(count)d photos.") % {"count": PHOTOS_MAX},
            param="photos",
        )
    if len({str(p) for p in photos}) != len(photos):
        raise ApplicationError("duplicate_photo", _("A photo is given twice."), param="photos")
    with transaction.atomic():
        voice_file = _attach(
            author=author, media=voice, purpose=Purpose.DATING_VOICE, kind=Kind.AUDIO, param="voice"
        )
        _voice_check(voice_file)
        photo_files = [
            _attach(
                author=author,
                media=p,
                purpose=Purpose.DATING_PHOTO,
                kind=Kind.IMAGE,
                param="photos",
            )
            for p in photos
        ]
        if (
            VoicePost.objects.filter(voice=voice_file).exists()
            or PostPhoto.objects.filter(media__in=photo_files).exists()
        ):
            raise ApplicationError(
                "media_in_use", _("This file is already in a post."), param="voice", status_code=409
            )
        post = VoicePost.objects.create(
            author=author, voice=voice_file, caption=text, audience=audience
        )
        PostPhoto.objects.bulk_create(
            [PostPhoto(post=post, media=m, position=i) for i, m in enumerate(photo_files)]
        )
    logger.info("dating: post %s published", post.uuid)
    return post


def _own_post(*, user: User, post_uuid: Any) -> VoicePost:
    post = post_access(viewer=user, post_uuid=post_uuid)
    if post.author_id != user.pk:
        raise ApplicationError("not_author", _("Only the author can do this."), status_code=403)
    return post


def post_files_release(*, post: VoicePost) -> int:
    """Delete a deleted or erased post's files through media, except files an open
    report holds as evidence (P8); returns how many were deleted."""
    ids = [post.voice_id, *PostPhoto.objects.filter(post=post).values_list("media_id", flat=True)]
    held = evidence_file_ids_held(media_ids=[i for i in ids if i is not None])
    files = list(MediaFile.objects.filter(pk__in=[i for i in ids if i and i not in held]))
    for media_file in files:
        media_file_delete(media_file=media_file)
    return len(files)


def post_delete(*, user: User, post_uuid: Any) -> None:
    """The author deletes a post: gone for everyone at once, its files deleted (unless
    an open report holds them, P8), the row purged by retention (P13, P15)."""
    post = _own_post(user=user, post_uuid=post_uuid)
    with transaction.atomic():
        updated = VoicePost.objects.filter(pk=post.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now()
        )
        if updated:
            post_files_release(post=post)
    logger.info("dating: post %s deleted by its author", post.uuid)


# --- Likes ----------------------------------------------------------------------------


def _notify_author(
    *, post: VoicePost, actor: User, event_type: str, body: dict[str, Any], push_kind: str
) -> None:
    """An event on the author's stream, and a push unless one went out for this kind
    within the burst window (inside the caller's transaction; push after commit)."""
    if post.author_id == actor.pk:
        return
    events_append([PendingEvent(user_ids=[post.author_id], type=event_type, stored=body)])
    _push_after_commit(post=post, push_kind=push_kind)


def _push_after_commit(*, post: VoicePost, push_kind: str) -> None:
    """After commit, and after the answer has gone out (meetnow.lib.afterresponse), a
    push to the author unless one went out for this kind within the burst window
    (``DATING_PUSH_WINDOW_SECONDS``)."""
    window = settings.DATING_PUSH_WINDOW_SECONDS
    burst = int(time.time() // window)
    key = f"dating:push:{push_kind}:u{post.author_id}"

    def enqueue() -> None:
        if not cache.add(key, burst, timeout=window):
            return
        from dating.tasks import post_activity_push_task

        task_send(post_activity_push_task, post.pk, push_kind, burst)

    transaction.on_commit(lambda: after_response(enqueue), robust=True)


def _in_one_statement() -> bool:
    return connection.vendor == "postgresql"


# A like on PostgreSQL is one statement, so one round trip, atomic without a
# transaction block. In order: the post if the liker may see it (``post_access``'s
# conditions, compiled once: dating.selectors.post_access_template), the like row
# inserted unless it exists, then only if it was: the post's count moved (the UPDATE
# re-reads the locked row under READ COMMITTED, so concurrent likes each add exactly
# one), and unless the liker is the author, the author's event numbered (creating a
# missing counter, as chat.events does) and stored. The post row is locked before the
# author's counter, as in comments. Returns no row when the post is not visible, else
# one: (id, uuid, author_id, whether the like is new, the three counts, the event's
# number or NULL). Same effect as the ORM path, which other databases use.
_LIKE_TAIL = f"""
), new AS (
    INSERT INTO {PostLike._meta.db_table} (post_id, user_id, created_at)
    SELECT id, %s, %s FROM post
    ON CONFLICT (post_id, user_id) DO NOTHING RETURNING post_id
), counted AS (
    UPDATE {VoicePost._meta.db_table} SET like_count = like_count + 1
    WHERE id = (SELECT post_id FROM new)
    RETURNING like_count, comment_count, listen_count
), numbers AS (
    INSERT INTO {EventStream._meta.db_table} AS s (user_id, seq, compacted_through)
    SELECT author_id, 1, 0 FROM post WHERE author_id <> %s AND EXISTS (SELECT FROM counted)
    ON CONFLICT (user_id) DO UPDATE SET seq = s.seq + 1
    RETURNING s.user_id, s.seq
), stored AS (
    INSERT INTO {Event._meta.db_table} (user_id, seq, type, payload, created_at)
    SELECT numbers.user_id, numbers.seq, %s,
           jsonb_build_object('post', post.uuid::text, 'like_count', counted.like_count), %s
    FROM numbers, post, counted
)
SELECT post.id, post.uuid, post.author_id, counted.like_count IS NOT NULL,
       COALESCE(counted.like_count, post.like_count),
       COALESCE(counted.comment_count, post.comment_count),
       COALESCE(counted.listen_count, post.listen_count),
       (SELECT seq FROM numbers)
FROM post LEFT JOIN counted ON true
"""  # noqa: S608 (table names from the models; every value bound)

_UNLIKE_SQL = f"""
WITH gone AS (
    DELETE FROM {PostLike._meta.db_table} WHERE post_id = %s AND user_id = %s RETURNING 1
), counted AS (
    UPDATE {VoicePost._meta.db_table} SET like_count = like_count - 1
    WHERE id = %s AND EXISTS (SELECT FROM gone)
    RETURNING like_count, comment_count, listen_count
)
SELECT true, like_count, comment_count, listen_count FROM counted
UNION ALL
SELECT false, like_count, comment_count, listen_count FROM {VoicePost._meta.db_table}
WHERE id = %s AND NOT EXISTS (SELECT FROM gone)
"""  # noqa: S608 (table names from the models; every value bound)


def _like_one_statement(*, user: User, post_uuid: Any) -> VoicePost:
    access = post_access_template()
    now = timezone.now()
    params = [
        *access.bind(viewer=user.pk, post=parse_post_uuid(post_uuid)),
        user.pk,
        now,
        user.pk,
        DatingEvent.POST_LIKED,
        now,
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"WITH post AS ({access.sql}{_LIKE_TAIL}", params)
            row = cursor.fetchone()
    except IntegrityError:  # the post was deleted for good meanwhile
        raise NotFoundError(_("Post not found.")) from None
    if row is None:
        raise NotFoundError(_("Post not found."))
    pk, uuid, author_id, new, like_count, comment_count, listen_count, seq = row
    post = VoicePost(
        id=pk,
        uuid=uuid,
        author_id=author_id,
        like_count=like_count,
        comment_count=comment_count,
        listen_count=listen_count,
    )
    if new and seq is not None:
        # The statement committed the event; the author hears of it live once the
        # liker's answer has gone out (meetnow.lib.afterresponse).
        event = PendingEvent(
            user_ids=[author_id],
            type=DatingEvent.POST_LIKED,
            stored={"post": str(uuid), "like_count": like_count},
        )
        after_response(lambda: events_deliver([event], {author_id: int(seq)}))
        _push_after_commit(post=post, push_kind="like")
    return post


def post_like(*, user: User, post_uuid: Any) -> VoicePost:
    """Like a post (idempotent: liking twice is one like). The count moves only when
    the like row is new, in the same transaction (concurrency-safe); on PostgreSQL in
    one statement with the visibility check and the author's event. A new like tells
    the author (an event, one push per burst)."""
    if _in_one_statement():
        return _like_one_statement(user=user, post_uuid=post_uuid)
    post = post_access_light(viewer=user, post_uuid=post_uuid)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    PostLike.objects.create(post=post, user=user)
            except IntegrityError:
                return _refreshed(post)
            VoicePost.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
            post = _refreshed(post)
            _notify_author(
                post=post,
                actor=user,
                event_type=DatingEvent.POST_LIKED,
                body={"post": str(post.uuid), "like_count": post.like_count},
                push_kind="like",
            )
    except IntegrityError:  # the post was deleted for good meanwhile
        raise NotFoundError(_("Post not found.")) from None
    return post


def post_unlike(*, user: User, post_uuid: Any) -> VoicePost:
    """Take a like back (idempotent)."""
    post = post_access_light(viewer=user, post_uuid=post_uuid)
    if _in_one_statement():
        with connection.cursor() as cursor:
            cursor.execute(_UNLIKE_SQL, [post.pk, user.pk, post.pk, post.pk])
            row = cursor.fetchone()
        if row is None:  # the post itself is gone
            raise NotFoundError(_("Post not found."))
        _changed, post.like_count, post.comment_count, post.listen_count = row
        return post
    with transaction.atomic():
        deleted, _by_model = PostLike.objects.filter(post=post, user=user).delete()
        if deleted:
            VoicePost.objects.filter(pk=post.pk).update(like_count=F("like_count") - 1)
    return _refreshed(post)


def _refreshed(post: VoicePost) -> VoicePost:
    counts = (
        VoicePost.objects.filter(pk=post.pk)
        .values("like_count", "comment_count", "listen_count")
        .first()
    )
    if counts is not None:
        for name, value in counts.items():
            setattr(post, name, value)
    return post


# --- Comments -------------------------------------------------------------------------


def comment_create(*, user: User, post_uuid: Any, text: Any) -> PostComment:
    """Comment on a post one may see (≤ 500 characters)."""
    body = str(text or "").strip()
    if not body:
        raise ApplicationError("text_required", _("Write something."), param="text")
    if len(body) > COMMENT_MAX:
        raise ApplicationError(
            "text_too_long",
            _("At most %(count)d characters.") % {"count": COMMENT_MAX},
            param="text",
        )
    post = post_access(viewer=user, post_uuid=post_uuid)
    with transaction.atomic():
        comment = PostComment.objects.create(post=post, author=user, text=body)
        VoicePost.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)
        _notify_author(
            post=post,
            actor=user,
            event_type=DatingEvent.POST_COMMENTED,
            body={"post": str(post.uuid), "comment": str(comment.uuid)},
            push_kind="comment",
        )
    comment.post = post
    return comment


def comment_delete(*, user: User, post_uuid: Any, comment_uuid: Any) -> None:
    """Delete a comment: its author, or the post's author, may (others: 403; a comment
    the user can't see: 404). A reported comment's text stays in the report (P8)."""
    post = post_access(viewer=user, post_uuid=post_uuid)
    try:
        cid = uuid_lib.UUID(str(comment_uuid))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Comment not found.")) from None
    comment = PostComment.objects.filter(post_id=post.pk, uuid=cid).first()
    if comment is None:
        raise NotFoundError(_("Comment not found."))
    if user.pk not in (comment.author_id, post.author_id):
        raise ApplicationError(
            "not_allowed", _("Only its author or the post's author can delete it."), status_code=403
        )
    with transaction.atomic():
        deleted, _by_model = PostComment.objects.filter(pk=comment.pk).delete()
        if deleted and comment.taken_down_at is None:
            VoicePost.objects.filter(pk=post.pk).update(comment_count=F("comment_count") - 1)


# --- Listens --------------------------------------------------------------------------


def post_listened(*, user: User, post_uuid: Any) -> VoicePost:
    """The user played the post to the end: counted once per listener (idempotent).
    The author's own plays don't count."""
    post = post_access(viewer=user, post_uuid=post_uuid)
    if post.author_id == user.pk:
        return _refreshed(post)
    with transaction.atomic():
        try:
            with transaction.atomic():
                PostListen.objects.create(post=post, user=user)
        except IntegrityError:
            return _refreshed(post)
        VoicePost.objects.filter(pk=post.pk).update(listen_count=F("listen_count") + 1)
    return _refreshed(post)


# --- Erasure and retention (called by privacy's registry and retention table) -------


def _decrement(field: str, post_ids: list[int]) -> None:
    """Take one off ``field`` of each post, once per occurrence in ``post_ids``."""
    per_post: dict[int, int] = {}
    for pid in post_ids:
        per_post[pid] = per_post.get(pid, 0) + 1
    for pid, n in per_post.items():
        VoicePost.objects.filter(pk=pid).update(**{field: F(field) - n})


def likes_erase(*, user_id: int, limit: int) -> int:
    """Delete up to ``limit`` of a user's likes, the posts' counts corrected (P13)."""
    with transaction.atomic():
        rows = list(
            PostLike.objects.filter(user_id=user_id)
            .order_by("pk")
            .values_list("pk", "post_id")[:limit]
        )
        PostLike.objects.filter(pk__in=[pk for pk, _pid in rows]).delete()
        _decrement("like_count", [pid for _pk, pid in rows])
    return len(rows)


def listens_erase(*, user_id: int, limit: int) -> int:
    """Delete up to ``limit`` of a user's listen records, counts corrected (P13)."""
    with transaction.atomic():
        rows = list(
            PostListen.objects.filter(user_id=user_id)
            .order_by("pk")
            .values_list("pk", "post_id")[:limit]
        )
        PostListen.objects.filter(pk__in=[pk for pk, _pid in rows]).delete()
        _decrement("listen_count", [pid for _pk, pid in rows])
    return len(rows)


def comments_erase(*, user_id: int, limit: int) -> int:
    """Delete up to ``limit`` of a user's comments, counts corrected (P13)."""
    with transaction.atomic():
        rows = list(
            PostComment.objects.filter(author_id=user_id)
            .order_by("pk")
            .values_list("pk", "post_id", "taken_down_at")[:limit]
        )
        PostComment.objects.filter(pk__in=[pk for pk, _pid, _down in rows]).delete()
        _decrement("comment_count", [pid for _pk, pid, down in rows if down is None])
    return len(rows)


def photos_erase(*, user_id: int, limit: int) -> int:
    """Delete up to ``limit`` photo rows of a user's posts (the files are media's)."""
    ids = list(
        PostPhoto.objects.filter(post__author_id=user_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    PostPhoto.objects.filter(pk__in=ids).delete()
    return len(ids)


def posts_erase(*, user_id: int, limit: int) -> int:
    """Delete up to ``limit`` of a user's posts, with the likes, comments and listens
    others left on them (P13). Their files are the user's uploads: media's erasure
    step deletes them."""
    ids = list(
        VoicePost.objects.filter(author_id=user_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    VoicePost.objects.filter(pk__in=ids).delete()
    return len(ids)


def deleted_posts_purge(*, before: Any, batch: int = 500) -> int:
    """Purge posts deleted before ``before`` (P15): files no open report holds, then the
    rows (likes, comments, listens with them). A post an open report points at waits
    until the report is resolved."""
    from chat.models import ReportStatus
    from dating.models import PostReport

    held = PostReport.objects.filter(status=ReportStatus.OPEN, post__isnull=False).values("post_id")
    posts = list(
        VoicePost.objects.filter(deleted_at__lt=before).exclude(pk__in=held).order_by("pk")[:batch]
    )
    for post in posts:
        with transaction.atomic():
            post_files_release(post=post)
            VoicePost.objects.filter(pk=post.pk).delete()
    return len(posts)


def listens_compact(*, before: Any, batch: int = 1000) -> int:
    """Drop listen records older than ``before`` (P15): the post's ``listen_count``
    already holds them, so the count stays; only who listened is forgotten."""
    ids = list(
        PostListen.objects.filter(created_at__lt=before)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    PostListen.objects.filter(pk__in=ids).delete()
    return len(ids)
