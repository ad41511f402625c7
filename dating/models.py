"""Voice dating, part 1: voice posts, their likes, comments, listens and reports.

A :class:`VoicePost` is a voice clip (a ``media`` upload) with an optional caption and
up to four photos. It is shown to others only once every file of it is processed
(the media worker decides, nothing here): visibility is read from the files' status
at query time, so there is no second state to keep in step. Likes, comments and
listens are rows with a unique key where one-per-person is the rule, and the post
carries their counts, changed in the same transaction as the row (atomic ``F()``
updates), so a count can't drift from its rows.

Deleting a post only marks it (``deleted_at``): it disappears at once for everyone,
its files are deleted unless an open report holds them as evidence, and the row is
purged by the retention table (``dating_deleted_posts``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from chat.models import ReportBase


class Audience(models.TextChoices):
    PUBLIC = "public", _("Everyone")
    MATCHES = "matches", _("My matches")


class PostState(models.TextChoices):
    """What the author sees of a post (computed from its files, not stored)."""

    PENDING = "pending", _("Processing")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    TAKEN_DOWN = "taken_down", _("Taken down")


class VoicePost(models.Model):
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dating_posts",
        verbose_name=_("author"),
    )
    # Null once the file is gone (deleted with the post, erased, or purged).
    voice = models.ForeignKey(
        "media.MediaFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("voice"),
    )
    caption = models.CharField(max_length=300, blank=True, verbose_name=_("caption"))
    audience = models.CharField(
        max_length=8, choices=Audience.choices, default=Audience.PUBLIC, verbose_name=_("audience")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))
    taken_down_at = models.DateTimeField(null=True, blank=True, verbose_name=_("taken down at"))
    like_count = models.PositiveIntegerField(default=0, verbose_name=_("like count"))
    comment_count = models.PositiveIntegerField(default=0, verbose_name=_("comment count"))
    listen_count = models.PositiveIntegerField(default=0, verbose_name=_("listen count"))

    class Meta:
        verbose_name = _("voice post")
        verbose_name_plural = _("voice posts")
        permissions = [
            ("take_down_voicepost", gettext_noop("Can take down voice posts and comments"))
        ]
        indexes = [
            # The feed: newest live posts, scanned backwards by id.
            models.Index(
                fields=["-id"],
                condition=Q(deleted_at__isnull=True, taken_down_at__isnull=True),
                name="dating_post_live_idx",
            ),
            models.Index(fields=["author", "-id"], name="dating_post_author_idx"),
            models.Index(
                fields=["deleted_at"],
                condition=Q(deleted_at__isnull=False),
                name="dating_post_deleted_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"voice post {self.uuid}"


class PostPhoto(models.Model):
    post = models.ForeignKey(
        VoicePost, on_delete=models.CASCADE, related_name="photos", verbose_name=_("post")
    )
    media = models.ForeignKey(
        "media.MediaFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("media"),
    )
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))

    class Meta:
        verbose_name = _("post photo")
        verbose_name_plural = _("post photos")
        constraints = [
            models.UniqueConstraint(fields=["post", "position"], name="dating_photo_position"),
        ]

    def __str__(self) -> str:
        return f"photo {self.position} of post {self.post_id}"


class PostLike(models.Model):
    post = models.ForeignKey(
        VoicePost, on_delete=models.CASCADE, related_name="likes", verbose_name=_("post")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dating_post_likes",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("post like")
        verbose_name_plural = _("post likes")
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="dating_like_once"),
        ]
        indexes = [models.Index(fields=["user", "id"], name="dating_like_user_idx")]

    def __str__(self) -> str:
        return f"like {self.pk}"


class PostComment(models.Model):
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    post = models.ForeignKey(
        VoicePost, on_delete=models.CASCADE, related_name="comments", verbose_name=_("post")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dating_comments",
        verbose_name=_("author"),
    )
    text = models.CharField(max_length=500, verbose_name=_("text"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    taken_down_at = models.DateTimeField(null=True, blank=True, verbose_name=_("taken down at"))

    class Meta:
        verbose_name = _("post comment")
        verbose_name_plural = _("post comments")
        indexes = [
            models.Index(fields=["post", "-id"], name="dating_comment_post_idx"),
            models.Index(fields=["author", "id"], name="dating_comment_author_idx"),
        ]

    def __str__(self) -> str:
        return f"comment {self.uuid}"


class PostListen(models.Model):
    """One listener played one post to the end (counted once; dropped after 90 days,
    the count on the post keeps it)."""

    post = models.ForeignKey(
        VoicePost, on_delete=models.CASCADE, related_name="listens", verbose_name=_("post")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dating_listens",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("post listen")
        verbose_name_plural = _("post listens")
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="dating_listen_once"),
        ]
        indexes = [models.Index(fields=["user", "id"], name="dating_listen_user_idx")]

    def __str__(self) -> str:
        return f"listen {self.pk}"


class PostReportOutcome(models.TextChoices):
    NO_ACTION = "no_action", _("No action needed")
    TAKEN_DOWN = "taken_down", _("Post or comment taken down")
    USER_WARNED = "user_warned", _("User warned")
    USER_BANNED = "user_banned", _("User banned")


class PostReport(ReportBase):
    """A report of a voice post or a comment (P8), in the moderators' queue.

    Uses chat's reasons, statuses and outcomes. ``evidence_*`` snapshot what was
    reported (caption or comment text, the clip and photos as media ids), so the
    moderator still sees it after the author deletes it: a deleted post's files are
    kept while an open report holds them; the snapshot is wiped at resolution.
    """

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="dating_reports_made",
        verbose_name=_("reporter"),
    )
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="dating_reports_received",
        verbose_name=_("reported user"),
    )
    post = models.ForeignKey(
        VoicePost,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("post"),
    )
    comment = models.ForeignKey(
        PostComment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("comment"),
    )
    evidence_kind = models.CharField(
        max_length=8, verbose_name=_("evidence kind")
    )  # "post" or "comment"
    evidence_files = models.JSONField(
        default=list, blank=True, verbose_name=_("evidence files")
    )  # media ids (int)
    evidence_created_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("evidence created at")
    )
    outcome = models.CharField(
        max_length=16, choices=PostReportOutcome.choices, blank=True, verbose_name=_("outcome")
    )

    class Meta:
        verbose_name = _("post report")
        verbose_name_plural = _("post reports")
        indexes = [
            models.Index(fields=["reporter", "-id"], name="dating_report_reporter_idx"),
            models.Index(fields=["status", "-created_at"], name="dating_report_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"post report {self.uuid}"


# --- Part 2 (issue 15): likes between people, passes, matches -----------------------


class ProfileLike(models.Model):
    """``from_user`` likes ``to_user``: private (never shown to ``to_user`` as "sent by
    X" except in their who-liked-me list) until it is mutual, which makes a match."""

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dating_likes_sent",
        verbose_name=_("from user"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dating_likes_received",
        verbose_name=_("to user"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("profile like")
        verbose_name_plural = _("profile likes")
        constraints = [
            models.UniqueConstraint(
                fields=["from_user", "to_user"], name="dating_profile_like_once"
            ),
            models.CheckConstraint(
                condition=~Q(from_user=models.F("to_user")), name="dating_profile_like_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["to_user", "-id"], name="dating_plike_to_idx"),
            models.Index(fields=["from_user", "created_at"], name="dating_plike_from_idx"),
        ]

    def __str__(self) -> str:
        return f"profile like {self.pk}"


class ProfilePass(models.Model):
    """``from_user`` passed on ``to_user``: hidden from their discover until ``until``."""

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dating_passes_made",
        verbose_name=_("from user"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("to user"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    until = models.DateTimeField(db_index=True, verbose_name=_("until"))

    class Meta:
        verbose_name = _("profile pass")
        verbose_name_plural = _("profile passes")
        constraints = [
            models.UniqueConstraint(fields=["from_user", "to_user"], name="dating_pass_once"),
        ]

    def __str__(self) -> str:
        return f"pass {self.pk}"


class Match(models.Model):
    """Two people who liked each other, with the direct conversation that opened.

    ``user_low`` has the smaller id; one live match per pair (partial unique index).
    Unmatching sets ``ended_at`` and closes the conversation; a later mutual like
    makes a new row.
    """

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    user_low = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user low"),
    )
    user_high = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user high"),
    )
    conversation = models.ForeignKey(
        "chat.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("conversation"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))

    class Meta:
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        constraints = [
            models.UniqueConstraint(
                fields=["user_low", "user_high"],
                condition=Q(ended_at__isnull=True),
                name="dating_match_one_live_per_pair",
            ),
        ]
        indexes = [
            models.Index(fields=["user_low", "-id"], name="dating_match_low_idx"),
            models.Index(fields=["user_high", "-id"], name="dating_match_high_idx"),
        ]

    def __str__(self) -> str:
        return f"match {self.uuid}"


class VoiceMatchSession(models.Model):
    """Two people the voice-match queue paired, and their anonymous call (issue 15).

    Neither learns who the other is from it until both liked (``match`` set): the
    call is anonymous, and a like is private until it is mutual. ``caller`` is the
    one who waited longer and sends the WebRTC offer. Deleted with either account,
    and ``DATING_VOICE_MATCH`` retention days after the pairing.
    """

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("caller"),
    )
    callee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("callee"),
    )
    call = models.ForeignKey(
        "chat.Call",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("call"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )
    # The anonymous call ends then unless both liked before.
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    caller_liked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("caller liked at"))
    callee_liked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("callee liked at"))
    match = models.ForeignKey(
        Match,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("match"),
    )

    class Meta:
        verbose_name = _("voice match session")
        verbose_name_plural = _("voice match sessions")
        indexes = [
            models.Index(fields=["caller", "-id"], name="dating_vm_caller_idx"),
            models.Index(fields=["callee", "-id"], name="dating_vm_callee_idx"),
        ]

    def __str__(self) -> str:
        return f"voice match {self.uuid}"
