"""Helpers the chat services share (not part of the package's API)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import payloads
from chat.events import (
    EventType,
    PendingEvent,
    events_append,
)
from chat.models import (
    Conversation,
    Membership,
    Message,
    MessageVersion,
    Report,
    ReportStatus,
)
from media.models import MediaFile
from media.services import media_file_delete
from meetnow.lib.errors import ApplicationError
from meetnow.lib.outbox import task_send

logger = logging.getLogger(__name__)


def blocked_error() -> ApplicationError:
    return ApplicationError("blocked", _("You cannot contact this user."), status_code=403)


def request_limit_error() -> ApplicationError:
    """A send into a message request at the cap, or one its recipient declined: the
    same answer for both (the sender is not told it was declined)."""
    return ApplicationError(
        "request_limit",
        _("You can send more once this person accepts your message request."),
        status_code=403,
    )


def request_notice(*, conversation: Conversation, sender: Any, user_ids: Sequence[int]) -> None:
    """The one quiet notice of a new message request (in the writing transaction): a
    ``conversation.request`` event and, after commit, an ID-only push (no preview)."""
    events_append(
        [
            PendingEvent(
                user_ids=user_ids,
                type=EventType.CONVERSATION_REQUEST,
                stored={"conversation": str(conversation.uuid), "user": str(sender.uuid)},
            )
        ]
    )
    conversation_id = conversation.pk

    def push() -> None:
        from chat.tasks import request_push_task

        for uid in user_ids:
            task_send(request_push_task, uid, conversation_id)

    transaction.on_commit(push, robust=True)


def message_created_event(message: Message, user_ids: Sequence[int]) -> PendingEvent:
    conv_uuid = str(message.conversation.uuid)
    return PendingEvent(
        user_ids=user_ids,
        type=EventType.MESSAGE_CREATED,
        stored={"conversation": conv_uuid, "message_id": message.id},
        live={
            "conversation": conv_uuid,
            "message_id": message.id,
            "message": payloads.message_payload(message, conversation_uuid=conv_uuid),
        },
    )


def attachment_release(media_file_id: int | None, *, message_id: int | None = None) -> None:
    """Delete a file no longer shown anywhere: no other message uses it and no open
    report holds it as evidence (P8)."""
    if media_file_id is None:
        return
    if Message.objects.filter(attachment_id=media_file_id).exclude(pk=message_id or 0).exists():
        return
    if Report.objects.filter(
        evidence_attachment_id=media_file_id, status=ReportStatus.OPEN
    ).exists():
        return
    media_file = MediaFile.objects.filter(pk=media_file_id).first()
    if media_file is not None:
        media_file_delete(media_file=media_file)


def message_updated_event(message: Message, event_type: str, extra: dict[str, Any]) -> PendingEvent:
    conv_uuid = str(message.conversation.uuid)
    member_ids = list(
        Membership.objects.filter(
            conversation_id=message.conversation_id, left_at__isnull=True
        ).values_list("user_id", flat=True)
    )
    return PendingEvent(
        user_ids=member_ids,
        type=event_type,
        stored={"conversation": conv_uuid, "message_id": message.id, **extra},
        live={
            "conversation": conv_uuid,
            "message_id": message.id,
            **extra,
            "message": payloads.message_payload(message, conversation_uuid=conv_uuid),
        },
    )


def message_content_remove(message: Message, *, recalled: bool) -> None:
    now = timezone.now()
    attachment_id = message.attachment_id
    message.text = ""
    message.system = None
    message.attachment = None
    if recalled:
        message.recalled_at = now
    else:
        message.moderated_at = now
    message.save(update_fields=["text", "system", "attachment", "recalled_at", "moderated_at"])
    attachment_release(attachment_id, message_id=message.pk)
    if not Report.objects.filter(message=message, status=ReportStatus.OPEN).exists():
        MessageVersion.objects.filter(message=message).delete()
