"""Writes on conversations, messages, read state, settings and reports.

Zulip/HackSoft style: only these functions write; each owns its transaction,
appends the per-user events in it (chat.events) and sends them live, enqueues
push, only after commit. Policy ids: P8 (reports), P10 (push and mute respected),
P11 (members only; blocks honoured), P18 (message text never logged).
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, F, Max, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.identity.permissions import verified_required
from accounts.models import User
from accounts.selectors import block_exists_between, blocked_user_ids
from chat import payloads
from chat.events import (
    EventType,
    PendingEvent,
    event_streams_ensure,
    events_append,
    events_deliver,
)
from chat.models import (
    ChatSettings,
    Conversation,
    ConversationKind,
    MemberRole,
    Membership,
    Message,
    MessageHidden,
    MessageKind,
    MessageVersion,
    Report,
    ReportOutcome,
    ReportReason,
    ReportStatus,
)
from chat.presence import online_user_ids
from chat.selectors import (
    membership_access,
    parse_uuid,
    send_members,
    user_by_uuid,
    users_by_uuids,
)
from media.models import MediaFile
from media.models import Status as MediaStatus
from media.services import media_file_attach, media_file_delete
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.personal_data import chunk_update

logger = logging.getLogger(__name__)

USER_KINDS = {MessageKind.TEXT, MessageKind.IMAGE, MessageKind.VOICE, MessageKind.VIDEO}
# Which kind of uploaded file each message kind carries.
ATTACHMENT_KINDS: dict[str, str] = {
    MessageKind.IMAGE: "image",
    MessageKind.VOICE: "audio",
    MessageKind.VIDEO: "video",
}


def _blocked() -> ApplicationError:
    return ApplicationError("blocked", "You cannot contact this user.", status_code=403)


def _active_members(conversation_id: int) -> list[Membership]:
    return list(
        Membership.objects.filter(conversation_id=conversation_id, left_at__isnull=True)
        .select_related("user")
        .order_by("id")
    )


def _conversation_event(conversation: Conversation) -> dict[str, Any]:
    return {"conversation": str(conversation.uuid)}


# --- Conversations -----------------------------------------------------------------


def conversation_get_or_create_direct(*, user: User, other_uuid: Any) -> tuple[Conversation, bool]:
    """The one direct conversation of the pair, created on first use (race-safe: a
    unique constraint on the pair, not a read-then-write). Refused with ``blocked``
    if either blocked the other (P11)."""
    other = user_by_uuid(user_uuid=other_uuid, param="user")
    if other.pk == user.pk:
        raise ApplicationError("invalid_user", "You cannot talk to yourself.", param="user")
    if block_exists_between(user_a_id=user.pk, user_b_id=other.pk):
        raise _blocked()
    low, high = sorted((user.pk, other.pk))
    key = direct_key_for(low, high)
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(kind=ConversationKind.DIRECT, direct_key=key)
            Membership.objects.bulk_create(
                [
                    Membership(conversation=conversation, user_id=uid, role=MemberRole.MEMBER)
                    for uid in (low, high)
                ]
            )
            event_streams_ensure(user_ids=(low, high))
            events_append(
                [
                    PendingEvent(
                        user_ids=(low, high),
                        type=EventType.CONVERSATION_CREATED,
                        stored=_conversation_event(conversation),
                    )
                ]
            )
    except IntegrityError:
        # Someone created it at the same time: theirs is the one.
        return Conversation.objects.get(direct_key=key), False
    return conversation, True


def _group_capacity_check(count: int) -> None:
    if count > settings.MEETNOW_GROUP_MAX:
        raise ApplicationError(
            "group_full",
            f"A group has at most {settings.MEETNOW_GROUP_MAX} members.",
            param="users",
        )


def _blocks_check(*, actor: User, users: Sequence[User]) -> None:
    blocked = blocked_user_ids(user_id=actor.pk)
    if any(u.pk in blocked for u in users):
        raise _blocked()


def _title_clean(title: Any) -> str:
    text = str(title or "").strip()
    if not text:
        raise ApplicationError("title_required", "A group needs a title.", param="title")
    if len(text) > 80:
        raise ApplicationError("title_too_long", "At most 80 characters.", param="title")
    return text


def _system_message(*, conversation: Conversation, system: dict[str, Any], now: Any) -> Message:
    message = Message.objects.create(
        conversation=conversation, kind=MessageKind.SYSTEM, system=system, created_at=now
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=now)
    conversation.last_activity_at = now
    return message


def _message_created_event(message: Message, user_ids: Sequence[int]) -> PendingEvent:
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


def group_create(*, owner: User, title: Any, member_uuids: Sequence[Any]) -> Conversation:
    """A small group owned by ``owner`` (at most ``MEETNOW_GROUP_MAX`` members, P11)."""
    clean_title = _title_clean(title)
    users = [u for u in users_by_uuids(user_uuids=member_uuids, param="users") if u.pk != owner.pk]
    if not users:
        raise ApplicationError("users_required", "Add at least one other person.", param="users")
    _group_capacity_check(len(users) + 1)
    _blocks_check(actor=owner, users=users)
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=ConversationKind.GROUP, title=clean_title, owner=owner, created_at=now
        )
        Membership.objects.bulk_create(
            [Membership(conversation=conversation, user=owner, role=MemberRole.OWNER)]
            + [Membership(conversation=conversation, user=u) for u in users]
        )
        all_ids = [owner.pk, *(u.pk for u in users)]
        event_streams_ensure(user_ids=all_ids)
        message = _system_message(
            conversation=conversation,
            system={"action": "group_created", "by": str(owner.uuid)},
            now=now,
        )
        message.conversation = conversation
        events_append([_message_created_event(message, all_ids)])
    return conversation


def _group_membership_for_change(*, actor: User, conversation_uuid: Any) -> Membership:
    membership = membership_access(user=actor, conversation_uuid=conversation_uuid)
    if membership.conversation.kind != ConversationKind.GROUP:
        raise ApplicationError("not_a_group", "Only groups have members to change.")
    return membership


def _owner_required(membership: Membership) -> None:
    if membership.role != MemberRole.OWNER:
        raise ApplicationError("not_owner", "Only the group's owner can do this.", status_code=403)


def group_members_add(*, actor: User, conversation_uuid: Any, member_uuids: Sequence[Any]) -> None:
    """The owner adds people to the group (blocks honoured, size capped; P11)."""
    membership = _group_membership_for_change(actor=actor, conversation_uuid=conversation_uuid)
    _owner_required(membership)
    conversation = membership.conversation
    users = users_by_uuids(user_uuids=member_uuids, param="users")
    _blocks_check(actor=actor, users=users)
    now = timezone.now()
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        current = {m.user_id: m for m in Membership.objects.filter(conversation=conversation)}
        active = {uid for uid, m in current.items() if m.left_at is None}
        new = [u for u in users if u.pk not in active]
        if not new:
            return
        _group_capacity_check(len(active) + len(new))
        returning = [current[u.pk] for u in new if u.pk in current]
        for m in returning:
            m.left_at = None
            m.joined_at = now
            m.role = MemberRole.MEMBER
            m.muted = False
        if returning:
            Membership.objects.bulk_update(returning, ["left_at", "joined_at", "role", "muted"])
        Membership.objects.bulk_create(
            [Membership(conversation=conversation, user=u) for u in new if u.pk not in current]
        )
        event_streams_ensure(user_ids=[u.pk for u in new])
        message = _system_message(
            conversation=conversation,
            system={
                "action": "members_added",
                "by": str(actor.uuid),
                "users": [str(u.uuid) for u in new],
            },
            now=now,
        )
        message.conversation = conversation
        events_append([_message_created_event(message, sorted(active | {u.pk for u in new}))])


def _member_leave(
    *, conversation: Conversation, leaving: Membership, by: User, action: str
) -> None:
    now = timezone.now()
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        updated = Membership.objects.filter(pk=leaving.pk, left_at__isnull=True).update(
            left_at=now, role=MemberRole.MEMBER
        )
        if not updated:
            return
        system: dict[str, Any] = {
            "action": action,
            "by": str(by.uuid),
            "user": str(leaving.user.uuid),
        }
        remaining = _active_members(conversation.pk)
        if leaving.role == MemberRole.OWNER and remaining:
            heir = remaining[0]
            Membership.objects.filter(pk=heir.pk).update(role=MemberRole.OWNER)
            Conversation.objects.filter(pk=conversation.pk).update(owner=heir.user)
            system["owner"] = str(heir.user.uuid)
        elif leaving.role == MemberRole.OWNER:
            Conversation.objects.filter(pk=conversation.pk).update(owner=None)
        message = _system_message(conversation=conversation, system=system, now=now)
        message.conversation = conversation
        events_append(
            [
                _message_created_event(message, [m.user_id for m in remaining]),
                PendingEvent(
                    user_ids=[leaving.user_id],
                    type=EventType.CONVERSATION_REMOVED,
                    stored=_conversation_event(conversation),
                ),
            ]
        )


def group_member_remove(*, actor: User, conversation_uuid: Any, user_uuid: Any) -> None:
    """The owner removes a member; a member "removing" themself leaves."""
    membership = _group_membership_for_change(actor=actor, conversation_uuid=conversation_uuid)
    target_uuid = parse_uuid(user_uuid, param="user")
    if target_uuid == actor.uuid:
        group_leave(user=actor, conversation_uuid=conversation_uuid)
        return
    _owner_required(membership)
    target = (
        Membership.objects.select_related("user")
        .filter(conversation=membership.conversation, user__uuid=target_uuid, left_at__isnull=True)
        .first()
    )
    if target is None:
        raise NotFoundError("Member not found.")
    _member_leave(
        conversation=membership.conversation, leaving=target, by=actor, action="member_removed"
    )


def group_leave(*, user: User, conversation_uuid: Any) -> None:
    """Leave a group; if the owner leaves, the longest-standing member becomes owner."""
    membership = _group_membership_for_change(actor=user, conversation_uuid=conversation_uuid)
    membership.user = user
    _member_leave(
        conversation=membership.conversation, leaving=membership, by=user, action="member_left"
    )


def conversation_mute_set(*, user: User, conversation_uuid: Any, muted: bool) -> Membership:
    """Mute or unmute a conversation for oneself: no push while muted (P10)."""
    membership = membership_access(user=user, conversation_uuid=conversation_uuid)
    if membership.muted == muted:
        return membership
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(muted=muted)
        membership.muted = muted
        events_append(
            [
                PendingEvent(
                    user_ids=[user.pk],
                    type=EventType.CONVERSATION_UPDATED,
                    stored={**_conversation_event(membership.conversation), "muted": muted},
                )
            ]
        )
    return membership


# --- Messages ----------------------------------------------------------------------


def _text_clean(text: Any, *, required: bool) -> str:
    value = "" if text is None else str(text)
    if required and not value.strip():
        raise ApplicationError("text_required", "A text message needs some text.", param="text")
    if len(value) > settings.CHAT_TEXT_MAX:
        raise ApplicationError(
            "text_too_long",
            f"A message has at most {settings.CHAT_TEXT_MAX} characters.",
            param="text",
        )
    return value


def _client_id_clean(client_id: Any) -> uuid_lib.UUID:
    if client_id in (None, ""):
        raise ApplicationError(
            "client_id_required", "Send a client-generated UUID as client_id.", param="client_id"
        )
    return parse_uuid(client_id, param="client_id")


def message_send(
    *,
    sender: User,
    conversation_uuid: Any,
    client_id: Any,
    kind: str = MessageKind.TEXT,
    text: Any = "",
    media: Any = None,
) -> tuple[Message, bool]:
    """Send a message; returns ``(message, created)``.

    Idempotent (research/chat.md, pitfall 6): ``client_id`` is unique per sender by a
    database constraint, so a retry, even concurrent with the first attempt, gets the
    stored message back with ``created=False`` and nothing is sent twice. Members
    only (404 otherwise); a direct conversation with a block is refused (P11).
    Events for every member and the push task (P10) go out after commit.

    Photo, voice and video messages carry ``media``: the id of a file the sender
    uploaded for chat, processed and of the matching kind (clear 400s otherwise).
    With ``messages`` in ``MEETNOW_VERIFIED_ONLY`` an unverified sender gets 403
    ``identity_verification_required`` (P7: off by default).
    """
    verified_required(user=sender, function="messages")
    if kind not in USER_KINDS:
        raise ApplicationError("invalid_kind", "Unknown message kind.", param="kind")
    if kind == MessageKind.TEXT and media is not None:
        raise ApplicationError(
            "media_not_allowed", "A text message has no attachment.", param="media"
        )
    if kind != MessageKind.TEXT and media is None:
        raise ApplicationError("media_required", "Attach the uploaded file.", param="media")
    cid = _client_id_clean(client_id)
    body = _text_clean(text, required=kind == MessageKind.TEXT)
    one_statement = _send_in_one_statement()
    try:
        # PostgreSQL stores a text message in one statement, atomic by itself: no
        # transaction around it (two round trips fewer). Attachments are claimed in
        # the same transaction as the message.
        with transaction.atomic() if media is not None or not one_statement else nullcontext():
            conversation, members = send_members(
                sender_id=sender.pk, conversation_uuid=_conversation_uuid(conversation_uuid)
            )
            own = next((m for m in members if m.user_id == sender.pk), None)
            if conversation is None or own is None:
                raise NotFoundError("Conversation not found.")
            if not own.active:
                # Banned or deactivated while a request or a socket was still open:
                # checked in the members read, so no send slips past a ban.
                raise ApplicationError("invalid_token", "This session has ended.", status_code=401)
            if conversation.kind == ConversationKind.DIRECT and any(
                m.blocked for m in members if m.user_id != sender.pk
            ):
                raise _blocked()
            attachment = None
            if media is not None:
                attachment = _attachment_claim(sender=sender, media=media, kind=kind)
            message = Message(
                conversation=conversation,
                sender=sender,
                client_id=cid,
                kind=kind,
                text=body,
                attachment=attachment,
                created_at=timezone.now(),
            )
            member_ids = [m.user_id for m in members]
            if one_statement:
                seqs = _message_insert_one_statement(message, member_ids)
                if seqs is None:
                    raise _ClientIdTaken
                events_deliver([_message_created_event(message, member_ids)], seqs)
            else:
                # Takes the conversation's row lock first: sends into one conversation
                # get their ids in commit order.
                Conversation.objects.filter(pk=conversation.pk).update(
                    last_activity_at=message.created_at
                )
                message.save(force_insert=True)
                events_append([_message_created_event(message, member_ids)])
            recipients = [m.user_id for m in members if m.user_id != sender.pk and not m.muted]
            if recipients:
                # robust: the message is stored; a broker hiccup must not turn the
                # answer into a 500 (the client would retry and get it anyway).
                transaction.on_commit(
                    lambda: _push_if_offline(message_id=message.id, user_ids=recipients),
                    robust=True,
                )
    except (IntegrityError, _ClientIdTaken):
        existing = (
            Message.objects.select_related("conversation", "sender")
            .filter(sender=sender, client_id=cid)
            .first()
        )
        if existing is None:
            raise
        if str(existing.conversation.uuid) != str(_conversation_uuid(conversation_uuid)):
            raise ApplicationError(
                "client_id_conflict",
                "This client_id was already used for another conversation.",
                param="client_id",
                status_code=409,
            ) from None
        return existing, False
    return message, True


def _send_in_one_statement() -> bool:
    return connection.vendor == "postgresql"


class _ClientIdTaken(Exception):
    """The sender already sent a message with this client_id (a retry)."""


# One statement, so one round trip and atomic without a transaction block. In order:
# lock the conversation row (so that sends into one conversation get their ids in
# commit order), insert the message unless (sender, client_id) exists, then only if
# it was inserted: bump the conversation's activity, number one event per member
# (creating missing counters; locks in user id order, as chat.events does) and store
# those events. Returns one row per member: (message id, user id, event number); none
# for a retry. Same effect as the ORM path of message_send, which other databases use.
_SEND_SQL = """
WITH locked AS (
    SELECT id FROM chat_conversation WHERE id = %(conversation)s FOR UPDATE
), message AS (
    INSERT INTO chat_message (conversation_id, sender_id, client_id, kind, text,
                              attachment_id, system, created_at)
    SELECT id, %(sender)s, %(client_id)s, %(kind)s, %(text)s, %(attachment)s, NULL, %(now)s
    FROM locked
    ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
    RETURNING id
), touched AS (
    UPDATE chat_conversation SET last_activity_at = %(now)s
    WHERE id = %(conversation)s AND EXISTS (SELECT 1 FROM message)
), numbers AS (
    INSERT INTO chat_eventstream AS s (user_id, seq, compacted_through)
    SELECT member, 1, 0 FROM unnest(%(members)s::bigint[]) AS member
    WHERE EXISTS (SELECT 1 FROM message)
    ORDER BY member
    ON CONFLICT (user_id) DO UPDATE SET seq = s.seq + 1
    RETURNING s.user_id, s.seq
), stored AS (
    INSERT INTO chat_event (user_id, seq, type, payload, created_at)
    SELECT numbers.user_id, numbers.seq, %(event_type)s,
           jsonb_build_object('conversation', %(conversation_uuid)s::text,
                              'message_id', message.id),
           %(now)s
    FROM numbers, message
)
SELECT message.id, numbers.user_id, numbers.seq FROM message, numbers
"""


def _message_insert_one_statement(message: Message, member_ids: list[int]) -> dict[int, int] | None:
    """Store ``message`` and its ``message.created`` events (PostgreSQL); sets its id
    and returns the members' event numbers, or ``None`` if the client_id was taken."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SEND_SQL,
            {
                "conversation": message.conversation.pk,
                "conversation_uuid": str(message.conversation.uuid),
                "sender": message.sender_id,
                "client_id": message.client_id,
                "kind": message.kind,
                "text": message.text,
                "attachment": message.attachment_id,
                "now": message.created_at,
                "members": sorted(member_ids),
                "event_type": EventType.MESSAGE_CREATED,
            },
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    message.id = int(rows[0][0])
    message._state.adding = False
    return {int(uid): int(seq) for _, uid, seq in rows}


def _attachment_claim(*, sender: User, media: Any, kind: str) -> MediaFile:
    media_file = media_file_attach(owner=sender, media_uuid=media, purposes=("chat",))
    if media_file.kind != ATTACHMENT_KINDS[kind]:
        raise ApplicationError(
            "media_kind_mismatch",
            f"A {kind} message needs a {ATTACHMENT_KINDS[kind]} file.",
            param="media",
        )
    if media_file.status != MediaStatus.READY:
        raise ApplicationError(
            "media_not_ready",
            "The file is still being processed; send it when ready.",
            param="media",
            status_code=409,
        )
    return media_file


def _attachment_release(media_file_id: int | None, *, message_id: int | None = None) -> None:
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


def _conversation_uuid(value: Any) -> uuid_lib.UUID:
    try:
        return uuid_lib.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError("Conversation not found.") from None


def _push_if_offline(*, message_id: int, user_ids: list[int]) -> None:
    """Enqueue the push task only if some recipient has no live foreground socket (the
    task decides again, exactly; this saves a task per message in busy chats)."""
    if len(online_user_ids(user_ids=user_ids)) == len(user_ids):
        return
    from chat.tasks import message_push_task

    message_push_task.delay(message_id)


def _own_message_for_change(*, user: User, conversation_uuid: Any, message_id: Any) -> Message:
    membership = membership_access(user=user, conversation_uuid=conversation_uuid)
    try:
        mid = int(message_id)
    except (TypeError, ValueError):
        raise NotFoundError("Message not found.") from None
    message = (
        Message.objects.select_for_update()
        .filter(conversation_id=membership.conversation_id, id=mid)
        .first()
    )
    if message is None:
        raise NotFoundError("Message not found.")
    message.conversation = membership.conversation
    message.sender = user if message.sender_id == user.pk else message.sender
    if message.sender_id != user.pk:
        raise ApplicationError("not_sender", "Only the sender can do this.", status_code=403)
    if message.is_removed:
        raise ApplicationError("message_removed", "This message was removed.", status_code=409)
    return message


def _updated_event(message: Message, event_type: str, extra: dict[str, Any]) -> PendingEvent:
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


def message_edit(*, user: User, conversation_uuid: Any, message_id: Any, text: Any) -> Message:
    """Edit one's text message within ``CHAT_EDIT_WINDOW``; the previous text is kept as
    a version for moderators (P8), never shown to members."""
    body = _text_clean(text, required=True)
    with transaction.atomic():
        message = _own_message_for_change(
            user=user, conversation_uuid=conversation_uuid, message_id=message_id
        )
        if message.kind != MessageKind.TEXT:
            raise ApplicationError("not_editable", "Only text messages can be edited.")
        if timezone.now() - message.created_at > settings.CHAT_EDIT_WINDOW:
            raise ApplicationError(
                "edit_window_expired", "This message can no longer be edited.", status_code=403
            )
        if body == message.text:
            return message
        MessageVersion.objects.create(
            message=message, text=message.text, created_at=message.edited_at or message.created_at
        )
        message.text = body
        message.edited_at = timezone.now()
        message.save(update_fields=["text", "edited_at"])
        events_append([_updated_event(message, EventType.MESSAGE_UPDATED, {})])
    return message


def message_recall(*, user: User, conversation_uuid: Any, message_id: Any) -> Message:
    """Recall one's message within ``CHAT_RECALL_WINDOW``: the content is removed for
    everyone and a tombstone stays in history and sync. A snapshot held by an open
    report is kept for the moderator until the report is resolved (P8)."""
    with transaction.atomic():
        message = _own_message_for_change(
            user=user, conversation_uuid=conversation_uuid, message_id=message_id
        )
        if timezone.now() - message.created_at > settings.CHAT_RECALL_WINDOW:
            raise ApplicationError(
                "recall_window_expired", "This message can no longer be recalled.", status_code=403
            )
        _message_content_remove(message, recalled=True)
        events_append([_updated_event(message, EventType.MESSAGE_DELETED, {"mode": "recalled"})])
    return message


def _message_content_remove(message: Message, *, recalled: bool) -> None:
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
    _attachment_release(attachment_id, message_id=message.pk)
    if not Report.objects.filter(message=message, status=ReportStatus.OPEN).exists():
        MessageVersion.objects.filter(message=message).delete()


def message_delete_for_me(*, user: User, conversation_uuid: Any, message_id: Any) -> None:
    """Hide a message for oneself only; the other members still see it."""
    membership = membership_access(user=user, conversation_uuid=conversation_uuid)
    try:
        mid = int(message_id)
    except (TypeError, ValueError):
        raise NotFoundError("Message not found.") from None
    if not Message.objects.filter(conversation_id=membership.conversation_id, id=mid).exists():
        raise NotFoundError("Message not found.")
    with transaction.atomic():
        created = MessageHidden.objects.bulk_create(
            [MessageHidden(user=user, message_id=mid)], ignore_conflicts=True
        )
        if not created:
            return
        conv_uuid = str(membership.conversation.uuid)
        events_append(
            [
                PendingEvent(
                    user_ids=[user.pk],
                    type=EventType.MESSAGE_DELETED,
                    stored={"conversation": conv_uuid, "message_id": mid, "mode": "hidden"},
                    live={"conversation": conv_uuid, "message_id": mid, "mode": "hidden"},
                )
            ]
        )


# --- Read state --------------------------------------------------------------------


def conversation_mark_read(*, user: User, conversation_uuid: Any, message_id: Any) -> Membership:
    """Move the user's read marker forward to ``message_id`` (never backwards).

    The user's other devices learn it (and get a "clear" push for the conversation);
    other members learn it only if the user shares read receipts (P11).
    """
    membership = membership_access(user=user, conversation_uuid=conversation_uuid)
    try:
        mid = int(message_id)
    except (TypeError, ValueError):
        raise ApplicationError("invalid", "A message id is required.", param="message_id") from None
    conversation = membership.conversation
    last = Message.objects.filter(conversation_id=conversation.pk).aggregate(m=Max("id"))["m"]
    if last is None or mid <= 0 or mid > last:
        raise ApplicationError(
            "invalid_message", "No such message in this conversation.", param="message_id"
        )
    with transaction.atomic():
        moved = Membership.objects.filter(pk=membership.pk, last_read_id__lt=mid).update(
            last_read_id=mid
        )
        if not moved:
            return membership
        membership.last_read_id = mid
        conv_uuid = str(conversation.uuid)
        body = {"conversation": conv_uuid, "user": str(user.uuid), "last_read_id": mid}
        events = [PendingEvent(user_ids=[user.pk], type=EventType.CONVERSATION_READ, stored=body)]
        settings_row = ChatSettings.objects.filter(user=user).first()
        if settings_row is None or settings_row.share_read_receipts:
            others = list(
                Membership.objects.filter(conversation=conversation, left_at__isnull=True)
                .exclude(user=user)
                .values_list("user_id", flat=True)
            )
            if others:
                events.append(
                    PendingEvent(user_ids=others, type=EventType.CONVERSATION_READ, stored=body)
                )
        events_append(events)
        from chat.tasks import conversation_clear_push_task

        transaction.on_commit(
            lambda: conversation_clear_push_task.delay(user.pk, conversation.pk), robust=True
        )
    return membership


def chat_settings_update(
    *,
    user: User,
    share_read_receipts: bool | None = None,
    push_previews: bool | None = None,
) -> ChatSettings:
    """Change one's chat settings: stop sharing read receipts (P11), opt in to text
    previews in push notifications (off by default: pushes carry ids and counts)."""
    with transaction.atomic():
        row, _ = ChatSettings.objects.select_for_update().get_or_create(user=user)
        fields = []
        if share_read_receipts is not None:
            row.share_read_receipts = share_read_receipts
            fields.append("share_read_receipts")
        if push_previews is not None:
            row.push_previews = push_previews
            fields.append("push_previews")
        if fields:
            row.save(update_fields=fields)
    return row


# --- Reports and moderation (P8) ---------------------------------------------------


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
    if reason not in ReportReason.values:
        raise ApplicationError("invalid_reason", "Unknown reason.", param="reason")
    text = "" if details is None else str(details)
    if len(text) > 2000:
        raise ApplicationError("details_too_long", "At most 2000 characters.", param="details")
    if (user_uuid is None) == (message_id is None):
        raise ApplicationError(
            "target_required", "Report either a user or a message.", param="message_id"
        )
    report = Report(reporter=reporter, reason=reason, details=text)
    if message_id is not None:
        try:
            mid = int(message_id)
        except (TypeError, ValueError):
            raise NotFoundError("Message not found.") from None
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
            raise NotFoundError("Message not found.")
        if message.kind == MessageKind.SYSTEM or message.sender_id is None:
            raise ApplicationError("not_reportable", "This message cannot be reported.")
        if message.sender_id == reporter.pk:
            raise ApplicationError("cannot_report_self", "You cannot report yourself.")
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
            raise ApplicationError("cannot_report_self", "You cannot report yourself.")
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
        _message_content_remove(locked, recalled=False)
        events_append([_updated_event(locked, EventType.MESSAGE_DELETED, {"mode": "moderated"})])
    logger.info("chat: message %s hidden by moderator %s", locked.pk, moderator.pk)
    return locked


def report_resolve(*, report: Report, moderator: User, outcome: str, note: str = "") -> Report:
    """Close a report with an outcome (P8). ``message_hidden`` removes the message;
    ``user_banned`` bans the reported user through the accounts service. Evidence of a
    message whose content is gone (recalled, removed) is wiped at resolution."""
    from accounts.services import user_ban

    if outcome not in ReportOutcome.values:
        raise ApplicationError("invalid_outcome", "Unknown outcome.", param="outcome")
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status == ReportStatus.RESOLVED:
            return locked
        if outcome == ReportOutcome.MESSAGE_HIDDEN and locked.message_id is not None:
            message_moderate_hide(message=Message(pk=locked.message_id), moderator=moderator)
        if outcome == ReportOutcome.USER_BANNED and locked.reported_user_id is not None:
            target = User.objects.get(pk=locked.reported_user_id)
            if target.is_active:
                user_ban(user=target)
        locked.status = ReportStatus.RESOLVED
        locked.outcome = outcome
        locked.moderator_note = note
        locked.resolved_by = moderator
        locked.resolved_at = timezone.now()
        fields = ["status", "outcome", "moderator_note", "resolved_by", "resolved_at"]
        message = (
            Message.objects.filter(pk=locked.message_id).first() if locked.message_id else None
        )
        if locked.message_id is None or (message is not None and message.is_removed):
            evidence_file = locked.evidence_attachment_id
            locked.evidence_text = ""
            locked.evidence_attachment = None
            fields += ["evidence_text", "evidence_attachment"]
            locked.save(update_fields=fields)
            _attachment_release(evidence_file)
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


# --- Erasure of a user (called by chat/personal_data.py, in chunks of ``limit``) ----------


def direct_key_for(user_a_id: int, user_b_id: int) -> str:
    """The key that makes a direct conversation unique per pair: ``"<low id>:<high id>"``."""
    low, high = sorted((user_a_id, user_b_id))
    return f"{low}:{high}"


def direct_key_of_user(user_id: int) -> Q:
    """Conversations whose direct key holds ``user_id`` (see :func:`direct_key_for`)."""
    return Q(direct_key__startswith=f"{user_id}:") | Q(direct_key__endswith=f":{user_id}")


def conversations_direct_key_erase(*, user_id: int, limit: int) -> int:
    """Replace the direct key of up to ``limit`` conversations holding the user's id by
    ``erased-<conversation id>`` (still unique); the other member keeps the history."""
    return chunk_update(
        Conversation.objects.filter(direct_key_of_user(user_id)),
        limit,
        direct_key=Concat(Value("erased-"), Cast(F("id"), output_field=CharField())),
    )


def messages_tombstone_for_sender(*, user_id: int, limit: int) -> int:
    """Tombstone up to ``limit`` messages the user sent: the row stays so the others'
    history keeps its shape (sender shown as "Deleted user"); text, system payload,
    client id, edit time and every link to a stored file are removed."""
    file_links = {
        f.name: None
        for f in Message._meta.concrete_fields
        if f.is_relation and f.related_model is MediaFile and f.null
    }
    return chunk_update(
        Message.objects.filter(sender_id=user_id),
        limit,
        sender=None,
        text="",
        system=None,
        client_id=None,
        edited_at=None,
        **file_links,
    )
