"""Reports and moderation (P8): a report with its evidence, hiding a message, resolving."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from chat.events import (
    EventType,
    events_append,
)
from chat.models import (
    Message,
    MessageKind,
    MessageVersion,
    Report,
    ReportBase,
    ReportOutcome,
    ReportReason,
    ReportStatus,
)
from chat.selectors import (
    user_by_uuid,
)
from chat.services.common import (
    attachment_release,
    message_content_remove,
    message_updated_event,
)
from meetnow.lib.errors import ApplicationError, NotFoundError

logger = logging.getLogger(__name__)

REPORT_DETAILS_MAX = 2000
# What ``report_close`` writes (the caller adds its evidence fields).
REPORT_CLOSE_FIELDS = ["status", "outcome", "moderator_note", "resolved_by", "resolved_at"]


def report_details_clean(*, reason: Any, details: Any) -> str:
    """A report's reason checked and its details as text (clear 400s); chat's and
    dating's reports take the same."""
    if reason not in ReportReason.values:
        raise ApplicationError("invalid_reason", _("Unknown reason."), param="reason")
    text = "" if details is None else str(details)
    if len(text) > REPORT_DETAILS_MAX:
        raise ApplicationError(
            "details_too_long",
            _("At most %(count)d characters.") % {"count": REPORT_DETAILS_MAX},
            param="details",
        )
    return text


def report_close(report: ReportBase, *, moderator: User, outcome: str, note: str) -> None:
    """Close a locked report with ``outcome`` (not saved: the caller saves
    ``REPORT_CLOSE_FIELDS`` with its own); ``user_banned`` bans the reported user
    through the accounts service."""
    from accounts.services import user_ban

    if outcome == ReportOutcome.USER_BANNED and report.reported_user_id is not None:
        target = User.objects.get(pk=report.reported_user_id)
        if target.is_active:
            user_ban(user=target)
    report.status = ReportStatus.RESOLVED
    report.outcome = outcome
    report.moderator_note = note
    report.resolved_by = moderator
    report.resolved_at = timezone.now()


def report_create(
    *,
    reporter: User,
    reason: Any,
    details: Any = "",
    user_uuid: Any = None,
    message_id: Any = None,
) -> Report:
    """Report a user or a message to the moderators (P8).

    A message can be reported only by a member of its conversation; its content is
    copied into the report, so the moderator sees it even if the sender later edits
    or recalls it, until the report is resolved.
    """
    text = report_details_clean(reason=reason, details=details)
    if (user_uuid is None) == (message_id is None):
        raise ApplicationError(
            "target_required", _("Report either a user or a message."), param="message_id"
        )
    report = Report(reporter=reporter, reason=reason, details=text)
    if message_id is not None:
        try:
            mid = int(message_id)
        except (TypeError, ValueError):
            raise NotFoundError(_("Message not found.")) from None
        message = (
            Message.objects.select_related("sender", "conversation")
            .filter(
                id=mid,
                conversation__memberships__user=reporter,
                conversation__memberships__left_at__isnull=True,
            )
            .first()
        )
        if message is None:
            raise NotFoundError(_("Message not found."))
        if message.kind == MessageKind.SYSTEM or message.sender_id is None:
            raise ApplicationError("not_reportable", _("This message cannot be reported."))
        if message.sender_id == reporter.pk:
            raise ApplicationError("cannot_report_self", _("You cannot report yourself."))
        report.message = message
        report.conversation = message.conversation
        report.reported_user = message.sender
        report.evidence_kind = message.kind
        report.evidence_text = message.text
        report.evidence_attachment_id = message.attachment_id
        report.evidence_sent_at = message.created_at
    else:
        target = user_by_uuid(user_uuid=user_uuid, param="user")
        if target.pk == reporter.pk:
            raise ApplicationError("cannot_report_self", _("You cannot report yourself."))
        report.reported_user = target
    report.save()
    logger.info("chat: report %s created (reason %s)", report.uuid, report.reason)
    return report


def message_moderate_hide(*, message: Message, moderator: User) -> Message:
    """A moderator removes a message for everyone (P8); members see a tombstone."""
    with transaction.atomic():
        locked = (
            Message.objects.select_for_update().select_related("conversation").get(pk=message.pk)
        )
        if locked.moderated_at is not None:
            return locked
        message_content_remove(locked, recalled=False)
        events_append(
            [message_updated_event(locked, EventType.MESSAGE_DELETED, {"mode": "moderated"})]
        )
    logger.info("chat: message %s hidden by moderator %s", locked.pk, moderator.pk)
    return locked


def report_resolve(*, report: Report, moderator: User, outcome: str, note: str = "") -> Report:
    """Close a report with an outcome (P8). ``message_hidden`` removes the message;
    ``user_banned`` bans the reported user through the accounts service. Evidence of a
    message whose content is gone (recalled, removed) is wiped at resolution."""
    if outcome not in ReportOutcome.values:
        raise ApplicationError("invalid_outcome", _("Unknown outcome."), param="outcome")
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status == ReportStatus.RESOLVED:
            return locked
        if outcome == ReportOutcome.MESSAGE_HIDDEN and locked.message_id is not None:
            message_moderate_hide(message=Message(pk=locked.message_id), moderator=moderator)
        report_close(locked, moderator=moderator, outcome=outcome, note=note)
        fields = list(REPORT_CLOSE_FIELDS)
        message = (
            Message.objects.filter(pk=locked.message_id).first() if locked.message_id else None
        )
        if locked.message_id is None or (message is not None and message.is_removed):
            evidence_file = locked.evidence_attachment_id
            locked.evidence_text = ""
            locked.evidence_attachment = None
            fields += ["evidence_text", "evidence_attachment"]
            locked.save(update_fields=fields)
            attachment_release(evidence_file)
            if (
                message is not None
                and not Report.objects.filter(message=message, status=ReportStatus.OPEN)
                .exclude(pk=locked.pk)
                .exists()
            ):
                MessageVersion.objects.filter(message=message).delete()
        locked.save(update_fields=fields)
    logger.info("chat: report %s resolved (%s)", locked.uuid, outcome)
    return locked
