"""The JSON shapes of chat objects, one definition shared by REST, WebSocket and sync.

Plain functions over already-loaded rows: they never query (callers load what is
needed with select_related/prefetch), so list endpoints keep a fixed query count.
"""

from __future__ import annotations

from typing import Any

from chat.models import Conversation, Membership, Message, Report
from media.models import MediaFile
from media.models import Status as MediaStatus
from media.services import media_file_signed_urls
from meetnow.lib.timestamps import iso

_UNSET = object()


def user_brief(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    # "verified": the identity badge (P7), the only thing others learn of a verification.
    return {
        "uuid": str(user.uuid),
        "nickname": user.nickname,
        "verified": bool(user.identity_verified),
    }


def attachment_payload(media_file: MediaFile) -> dict[str, Any]:
    """An attachment with short-lived signed URLs. Chat signs only for members: every
    caller has checked membership before building a message payload (P11)."""
    return attachment_body(
        media_file.uuid,
        media_file.kind,
        media_file.status,
        media_file.duration_ms,
        media_file.width,
        media_file.height,
        urls=media_file_signed_urls(media_file=media_file)
        if media_file.status == MediaStatus.READY
        else {},
    )


def attachment_body(
    media_uuid: Any,
    kind: str,
    status: str,
    duration_ms: int | None,
    width: int | None,
    height: int | None,
    *,
    urls: dict[str, str],
) -> dict[str, Any]:
    """``attachment_payload`` from a file's columns and its signed URLs (``{}`` unless
    it is ready): pages read as rows (chat.history) sign all their files at once."""
    return {
        "uuid": str(media_uuid),
        "kind": kind,
        "status": status,
        "duration_ms": duration_ms,
        "width": width,
        "height": height,
        "urls": urls,
    }


def message_payload(message: Message, *, conversation_uuid: str | None = None) -> dict[str, Any]:
    """A message as members see it. Recalled and moderated messages are tombstones:
    the row keeps its place in history, the content is gone."""
    removed = message.recalled_at is not None or message.moderated_at is not None
    # Pages of messages carry the sender's uuid as an annotation (chat.selectors).
    sender_uuid: Any = getattr(message, "sender_uuid", _UNSET)
    if sender_uuid is _UNSET:
        sender_uuid = message.sender.uuid if message.sender is not None else None
    return {
        "id": message.id,
        "conversation": conversation_uuid or str(message.conversation.uuid),
        "sender": str(sender_uuid) if sender_uuid is not None else None,
        "client_id": str(message.client_id) if message.client_id else None,
        "kind": message.kind,
        "text": "" if removed else message.text,
        "system": None if removed else message.system,
        "attachment": (
            attachment_payload(message.attachment)
            if message.attachment is not None and not removed
            else None
        ),
        "created_at": iso(message.created_at),
        "edited_at": iso(message.edited_at),
        "recalled": message.recalled_at is not None,
        "removed_by_moderator": message.moderated_at is not None,
    }


def member_payload(membership: Membership, *, share_receipts: bool) -> dict[str, Any]:
    """A member of a conversation; ``last_read_id`` only if they share read receipts."""
    return {
        "user": user_brief(membership.user),
        "role": membership.role,
        "last_read_id": membership.last_read_id if share_receipts else None,
    }


def invited_member_payload(user: Any) -> dict[str, Any]:
    """Someone invited to a group who has not accepted yet: listed, sees nothing."""
    return {"user": user_brief(user), "role": "invited", "last_read_id": None}


def invitation_payload(invitation: Any) -> dict[str, Any]:
    """A group invitation as its invitee sees it: the group's name, who invited them."""
    return {
        "conversation": str(invitation.conversation.uuid),
        "title": invitation.conversation.title,
        "invited_by": user_brief(invitation.invited_by),
        "created_at": iso(invitation.created_at),
    }


def conversation_payload(
    conversation: Conversation,
    *,
    membership: Membership,
    last_message: Message | None,
    unread: int,
    members: list[dict[str, Any]] | None = None,
    request: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uuid": str(conversation.uuid),
        "kind": conversation.kind,
        "title": conversation.title,
        "created_at": iso(conversation.created_at),
        "last_activity_at": iso(conversation.last_activity_at),
        "closed": conversation.closed_at is not None,
        "last_message": (
            message_payload(last_message, conversation_uuid=str(conversation.uuid))
            if last_message is not None
            else None
        ),
        "unread_count": unread,
        "last_read_id": membership.last_read_id,
        "muted": membership.muted,
        "role": membership.role,
        # Message requests (issue 15): "received" (in my requests list), "pending" (I
        # asked; not accepted as far as I can know), null for a normal conversation.
        "request": request,
    }
    if members is not None:
        data["members"] = members
    return data


def report_payload(report: Report) -> dict[str, Any]:
    """A report as its reporter sees it (no moderator notes, no evidence)."""
    return {
        "uuid": str(report.uuid),
        "reason": report.reason,
        "details": report.details,
        "reported_user": str(report.reported_user.uuid) if report.reported_user else None,
        "message_id": report.message_id,
        "status": report.status,
        "outcome": report.outcome or None,
        "created_at": iso(report.created_at),
        "resolved_at": iso(report.resolved_at),
    }
