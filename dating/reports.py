"""Reports of voice posts and comments, and moderators' take-downs (P8).

Same reasons and statuses as chat's reports; the moderators' admin shows both
queues. A report copies what was reported (text, file ids), and an open report
keeps a deleted post's files, so the moderator sees the evidence after the author
deletes it; resolving wipes the snapshot and lets the files go.
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from chat.events import PendingEvent, events_append
from chat.models import ReportStatus
from chat.services.reports import REPORT_CLOSE_FIELDS, report_close, report_details_clean
from dating.models import PostComment, PostPhoto, PostReport, PostReportOutcome, VoicePost
from dating.selectors import comments_of, post_access
from meetnow.lib.errors import ApplicationError, NotFoundError

logger = logging.getLogger(__name__)


def evidence_file_ids_held(*, media_ids: Iterable[int]) -> set[int]:
    """Which of these media ids an open report keeps as evidence."""
    wanted = set(media_ids)
    if not wanted:
        return set()
    held: set[int] = set()
    for files in (
        PostReport.objects.filter(status=ReportStatus.OPEN)
        .exclude(evidence_files=[])
        .values_list("evidence_files", flat=True)
    ):
        held.update(int(i) for i in files or [] if int(i) in wanted)
    return held


def reports_of(*, user: User) -> QuerySet[PostReport]:
    return PostReport.objects.filter(reporter=user).select_related("post", "comment")


def post_report_create(
    *,
    reporter: User,
    reason: Any,
    details: Any = "",
    post_uuid: Any,
    comment_uuid: Any = None,
) -> PostReport:
    """Report a post one may see, or a comment on it (P8); not one's own."""
    text = report_details_clean(reason=reason, details=details)
    post = post_access(viewer=reporter, post_uuid=post_uuid)
    report = PostReport(reporter=reporter, reason=reason, details=text)
    if comment_uuid is not None:
        try:
            cid = uuid_lib.UUID(str(comment_uuid))
        except (TypeError, ValueError, AttributeError):
            raise NotFoundError(_("Comment not found.")) from None
        comment = comments_of(viewer=reporter, post=post).filter(uuid=cid).first()
        if comment is None:
            raise NotFoundError(_("Comment not found."))
        target_user_id = comment.author_id
        report.comment = comment
        report.evidence_kind = "comment"
        report.evidence_text = comment.text
        report.evidence_created_at = comment.created_at
    else:
        target_user_id = post.author_id
        report.evidence_kind = "post"
        report.evidence_text = post.caption
        report.evidence_files = [
            i
            for i in [
                post.voice_id,
                *PostPhoto.objects.filter(post=post).values_list("media_id", flat=True),
            ]
            if i is not None
        ]
        report.evidence_created_at = post.created_at
    if target_user_id == reporter.pk:
        raise ApplicationError("cannot_report_self", _("You cannot report yourself."))
    report.post = post
    report.reported_user_id = target_user_id
    report.save()
    logger.info("dating: report %s created (reason %s)", report.uuid, report.reason)
    return report


def post_take_down(*, post: VoicePost, moderator: User) -> VoicePost:
    """A moderator takes a post down: others no longer see it, its author sees
    ``taken_down`` (an event tells their devices)."""
    with transaction.atomic():
        updated = VoicePost.objects.filter(pk=post.pk, taken_down_at__isnull=True).update(
            taken_down_at=timezone.now()
        )
        if updated:
            events_append(
                [
                    PendingEvent(
                        user_ids=[post.author_id],
                        type="dating.post_updated",
                        stored={"post": str(post.uuid), "state": "taken_down"},
                    )
                ]
            )
    logger.info("dating: post %s taken down by staff %s", post.uuid, moderator.pk)
    post.refresh_from_db()
    return post


def comment_take_down(*, comment: PostComment, moderator: User) -> PostComment:
    """A moderator takes a comment down: hidden from everyone but its author, who sees
    it marked; the post's comment count drops."""
    with transaction.atomic():
        updated = PostComment.objects.filter(pk=comment.pk, taken_down_at__isnull=True).update(
            taken_down_at=timezone.now()
        )
        if updated:
            VoicePost.objects.filter(pk=comment.post_id).update(
                comment_count=F("comment_count") - 1
            )
    logger.info("dating: comment %s taken down by staff %s", comment.uuid, moderator.pk)
    comment.refresh_from_db()
    return comment


def post_report_resolve(
    *, report: PostReport, moderator: User, outcome: str, note: str = ""
) -> PostReport:
    """Close a report with an outcome (P8): ``taken_down`` takes the comment (or the
    post) down, ``user_banned`` bans its author through accounts. The evidence
    snapshot is wiped; a deleted or taken-down post's files no other open report
    holds are deleted."""
    from dating.services import post_files_release

    if outcome not in PostReportOutcome.values:
        raise ApplicationError("invalid_outcome", _("Unknown outcome."), param="outcome")
    with transaction.atomic():
        locked = PostReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == ReportStatus.RESOLVED:
            return locked
        post = VoicePost.objects.filter(pk=locked.post_id).first() if locked.post_id else None
        if outcome == PostReportOutcome.TAKEN_DOWN:
            comment = (
                PostComment.objects.filter(pk=locked.comment_id).first()
                if locked.comment_id
                else None
            )
            if comment is not None:
                comment_take_down(comment=comment, moderator=moderator)
            elif post is not None and locked.evidence_kind == "post":
                post = post_take_down(post=post, moderator=moderator)
        report_close(locked, moderator=moderator, outcome=outcome, note=note)
        locked.evidence_text = ""
        locked.evidence_files = []
        locked.save(update_fields=[*REPORT_CLOSE_FIELDS, "evidence_text", "evidence_files"])
        if post is not None and (post.deleted_at is not None or post.taken_down_at is not None):
            post_files_release(post=post)
    logger.info("dating: report %s resolved (%s)", locked.uuid, outcome)
    return locked
