"""Writes on messages: send (one statement on PostgreSQL), edit, recall, delete for me.

Zulip/HackSoft style: only these functions write; each owns its transaction,
appends the per-user events in it (chat.events) and sends them live, enqueues
push, only after commit. Policy ids: P8 (reports), P10 (push and mute respected),
P11 (members only; blocks honoured), P18 (message text never logged).
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity.permissions import verified_required
from accounts.models import User
from chat.events import (
    EventType,
    PendingEvent,
    PresenceThen,
    events_append,
    events_deliver,
)
from chat.models import (
    Conversation,
    ConversationKind,
    Message,
    MessageHidden,
    MessageKind,
    MessageVersion,
    RequestState,
)
from chat.presence import online_user_ids
from chat.selectors import (
    SendMember,
    membership_access,
    parse_uuid,
    send_members,
    send_members_from_rows,
)
from chat.services.common import (
    blocked_error,
    message_content_remove,
    message_created_event,
    message_updated_event,
    request_limit_error,
    request_notice,
)
from media.models import MediaFile
from media.models import Status as MediaStatus
from media.services import media_file_attach
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.outbox import task_send
from meetnow.lib.throttling import WindowCount

logger = logging.getLogger(__name__)

USER_KINDS = {MessageKind.TEXT, MessageKind.IMAGE, MessageKind.VOICE, MessageKind.VIDEO}
# Which kind of uploaded file each message kind carries.
ATTACHMENT_KINDS: dict[str, str] = {
    MessageKind.IMAGE: "image",
    MessageKind.VOICE: "audio",
    MessageKind.VIDEO: "video",
}


def _text_clean(text: Any, *, required: bool) -> str:
    value = "" if text is None else str(text)
    if required and not value.strip():
        raise ApplicationError("text_required", _("A text message needs some text."), param="text")
    if len(value) > settings.CHAT_TEXT_MAX:
        raise ApplicationError(
            "text_too_long",
            _("A message has at most %(chat_text_max)s characters.")
            % {"chat_text_max": settings.CHAT_TEXT_MAX},
            param="text",
        )
    return value


def _client_id_clean(client_id: Any) -> uuid_lib.UUID:
    if client_id in (None, ""):
        raise ApplicationError(
            "client_id_required", _("Send a client-generated UUID as client_id."), param="client_id"
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
    counted: WindowCount | None = None,
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

    ``counted``: a use of the send limit to count in the publishes' Redis round trip
    (the socket's send, chat.ws_send); its ``value`` is set if it was counted there.
    """
    verified_required(user=sender, function="messages")
    _send_kind_check(kind=kind, media=media)
    cid = _client_id_clean(client_id)
    body = _text_clean(text, required=kind == MessageKind.TEXT)
    one_statement = _send_in_one_statement()
    conv_uuid = _conversation_uuid(conversation_uuid)
    try:
        if one_statement and media is None:
            # The common case: the members read, the checks and the store in one
            # statement (one database round trip, no transaction block).
            sent = _text_send_in_one_statement(
                sender=sender,
                conversation_uuid=conv_uuid,
                cid=cid,
                kind=kind,
                text=body,
                counted=counted,
            )
            if sent is not None:
                return sent, True
            # Else a message request stands in the conversation: its gate, below.
        # Attachments are claimed in the same transaction as the message; PostgreSQL
        # then stores a text message in one statement, atomic by itself.
        with transaction.atomic() if media is not None or not one_statement else nullcontext():
            conversation, members = send_members(sender_id=sender.pk, conversation_uuid=conv_uuid)
            conversation = _send_allowed(sender=sender, conversation=conversation, members=members)
            # A message request's recipient gets no event per message (one quiet notice).
            requested = [m for m in members if m.request_state and m.user_id != sender.pk]
            fanout = [m for m in members if not m.request_state]
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
            _message_store(
                message,
                sender=sender,
                cid=cid,
                member_ids=[m.user_id for m in fanout],
                requested=requested,
                one_statement=one_statement,
                presence_then=_presence_then(message, sender=sender, fanout=fanout),
            )
    except (IntegrityError, _ClientIdTaken):
        existing = _message_sent_before(sender=sender, cid=cid, conversation_uuid=conversation_uuid)
        if existing is None:
            raise
        return existing, False
    return message, True


def _presence_then(
    message: Message, *, sender: User, fanout: list[SendMember]
) -> PresenceThen | None:
    """After commit, with the live events: the recipients' presence is read in the
    publishes' Redis round trip (chat.events.realtime_send_text), and a failure there is
    logged, never turned into a 500 for a stored message."""
    recipients = [m.user_id for m in fanout if m.user_id != sender.pk and not m.muted]
    if not recipients:
        return None

    def push_if_offline(online: set[int]) -> None:
        # Push only if some recipient has no live foreground socket (the task decides
        # again, exactly; this saves a task per message in busy chats).
        if len(online) < len(recipients):
            _push_enqueue(message.id)

    return recipients, push_if_offline


def _text_send_in_one_statement(
    *,
    sender: User,
    conversation_uuid: uuid_lib.UUID,
    cid: uuid_lib.UUID,
    kind: str,
    text: str,
    counted: WindowCount | None,
) -> Message | None:
    """Store a message without attachment (PostgreSQL) in one statement that reads the
    members and stores only if the sender may send (_SEND_CHECKED_SQL); refusals are
    explained from the members it returns, by the same checks as the other paths.
    ``None`` if a message request stands (the caller's path has its gate); raises
    ``_ClientIdTaken`` for a retry."""
    now = timezone.now()
    uuid_field = Conversation._meta.get_field("uuid")
    with connection.cursor() as cursor:
        cursor.execute(
            _SEND_CHECKED_SQL,
            {
                "conversation_uuid": uuid_field.get_db_prep_value(conversation_uuid, connection),
                "conversation_text": str(conversation_uuid),
                "sender": sender.pk,
                "client_id": cid,
                "kind": kind,
                "text": text,
                "now": now,
                "event_type": EventType.MESSAGE_CREATED,
            },
        )
        rows = cursor.fetchall()
    if not rows:
        raise NotFoundError(_("Conversation not found."))
    first = rows[0]
    conversation, members = send_members_from_rows(conversation_uuid=conversation_uuid, rows=rows)
    _send_allowed(sender=sender, conversation=conversation, members=members)
    if any(m.request_state for m in members):
        return None
    if first[8] is None:
        raise _ClientIdTaken
    message = Message(
        id=int(first[8]),
        conversation=conversation,
        sender=sender,
        client_id=cid,
        kind=kind,
        text=text,
        attachment=None,
        created_at=now,
    )
    message._state.adding = False
    seqs = {int(row[0]): int(row[9]) for row in rows}
    events_deliver(
        [message_created_event(message, [m.user_id for m in members])],
        seqs,
        presence_then=_presence_then(message, sender=sender, fanout=members),
        counted=counted,
    )
    return message


def _send_kind_check(*, kind: str, media: Any) -> None:
    if kind not in USER_KINDS:
        raise ApplicationError("invalid_kind", _("Unknown message kind."), param="kind")
    if kind == MessageKind.TEXT and media is not None:
        raise ApplicationError(
            "media_not_allowed", _("A text message has no attachment."), param="media"
        )
    if kind != MessageKind.TEXT and media is None:
        raise ApplicationError("media_required", _("Attach the uploaded file."), param="media")


def _send_allowed(
    *, sender: User, conversation: Conversation | None, members: list[SendMember]
) -> Conversation:
    """The conversation, if ``sender`` may send to it now (from the one members read)."""
    own = next((m for m in members if m.user_id == sender.pk), None)
    if conversation is None or own is None:
        raise NotFoundError(_("Conversation not found."))
    if not own.active:
        # Banned or deactivated while a request or a socket was still open:
        # checked in the members read, so no send slips past a ban.
        raise ApplicationError("invalid_token", _("This session has ended."), status_code=401)
    if conversation.kind == ConversationKind.DIRECT and any(
        m.blocked for m in members if m.user_id != sender.pk
    ):
        raise blocked_error()
    if conversation.closed_at is not None:
        raise ApplicationError(
            "conversation_closed",
            _("This conversation is closed."),
            status_code=403,
        )
    if own.request_state:
        _own_request_refuse(own.request_state)
    return conversation


def _message_store(
    message: Message,
    *,
    sender: User,
    cid: uuid_lib.UUID,
    member_ids: list[int],
    requested: list[SendMember],
    one_statement: bool,
    presence_then: PresenceThen | None,
) -> None:
    """Insert the message with its events (raises ``_ClientIdTaken`` or IntegrityError
    when the sender's client_id is already stored); ``presence_then`` runs after commit
    (chat.events.events_deliver)."""
    # An accepted conversation (the common case) takes no branch of this: the
    # request state came with the members read.
    with transaction.atomic() if requested else nullcontext():
        if requested:
            _request_send_gate(
                conversation=message.conversation,
                sender=sender,
                cid=cid,
                requested=requested,
            )
        if one_statement:
            seqs = _message_insert_one_statement(message, member_ids)
            if seqs is None:
                raise _ClientIdTaken
            events_deliver(
                [message_created_event(message, member_ids)], seqs, presence_then=presence_then
            )
        else:
            # Takes the conversation's row lock first: sends into one conversation
            # get their ids in commit order.
            Conversation.objects.filter(pk=message.conversation_id).update(
                last_activity_at=message.created_at
            )
            message.save(force_insert=True)
            events_append([message_created_event(message, member_ids)])
            if presence_then is not None:
                user_ids, then = presence_then
                # robust: the message is stored; a broker hiccup must not turn the
                # answer into a 500 (the client would retry and get it anyway).
                transaction.on_commit(lambda: then(online_user_ids(user_ids=user_ids)), robust=True)


def _message_sent_before(
    *, sender: User, cid: uuid_lib.UUID, conversation_uuid: Any
) -> Message | None:
    """The message stored by an earlier send with ``cid`` (409 if it went to another
    conversation), None if there is none."""
    existing = (
        Message.objects.select_related("conversation", "sender")
        .filter(sender=sender, client_id=cid)
        .first()
    )
    if existing is None:
        return None
    if str(existing.conversation.uuid) != str(_conversation_uuid(conversation_uuid)):
        raise ApplicationError(
            "client_id_conflict",
            _("This client_id was already used for another conversation."),
            param="client_id",
            status_code=409,
        ) from None
    return existing


def _own_request_refuse(state: str) -> None:
    """The sender is the recipient of a message request: declined is gone for them
    (404, as everywhere); pending must be accepted before replying."""
    if state == RequestState.DECLINED:
        raise NotFoundError(_("Conversation not found."))
    raise ApplicationError(
        "request_not_accepted",
        _("Accept the message request to reply."),
        status_code=403,
    )


def _request_send_gate(
    *, conversation: Conversation, sender: User, cid: uuid_lib.UUID, requested: list[SendMember]
) -> None:
    """A send into a message request (inside the send's transaction): at most
    ``CHAT_REQUEST_MESSAGES`` while unanswered, none once declined, and the same answer
    for both (the sender is never told it was declined). The first message gives the
    recipient their one quiet notice (an event and an ID-only push, no preview)."""
    # Locks the conversation row: two sends at once cannot both be the third.
    list(Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("pk"))
    sent = Message.objects.filter(conversation_id=conversation.pk, sender_id=sender.pk).count()
    declined = any(m.request_state == RequestState.DECLINED for m in requested)
    if declined or sent >= settings.CHAT_REQUEST_MESSAGES:
        if Message.objects.filter(sender_id=sender.pk, client_id=cid).exists():
            raise _ClientIdTaken  # a retry of a stored message gets it back
        raise request_limit_error()
    if sent == 0:
        request_notice(
            conversation=conversation, sender=sender, user_ids=[m.user_id for m in requested]
        )


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


# The send of a message without attachment, checks included, in one statement
# (PostgreSQL): lock the conversation row (so that sends into one conversation get
# their ids in commit order), read its members as chat.selectors.send_members does,
# then store as _SEND_SQL does, only if the sender may send: an active member, the
# conversation open, no block in a direct conversation and no message request
# standing (that one has its gate in Python). Returns one row per member: the columns
# of chat.selectors._SEND_MEMBERS_SQL (read by send_members_from_rows), then the new
# message's id and the member's event number (both NULL if nothing was stored: a
# refusal, explained from the rows, or a retry of a stored client_id); no row if the
# conversation does not exist.
_SEND_CHECKED_SQL = """
WITH conv AS (
    SELECT id, kind, closed_at FROM chat_conversation
    WHERE uuid = %(conversation_uuid)s FOR UPDATE
), members AS (
    SELECT m.user_id, m.muted,
           EXISTS (SELECT 1 FROM accounts_block b
                   WHERE (b.blocker_id = %(sender)s AND b.blocked_id = m.user_id)
                      OR (b.blocker_id = m.user_id AND b.blocked_id = %(sender)s))
               AS blocked,
           u.is_active AND u.banned_at IS NULL AS active,
           m.request_state
    FROM conv JOIN chat_membership m ON m.conversation_id = conv.id
         JOIN accounts_user u ON u.id = m.user_id
    WHERE m.left_at IS NULL OR m.request_state = 'declined'
), allowed AS (
    SELECT conv.id FROM conv
    WHERE conv.closed_at IS NULL
      AND EXISTS (SELECT 1 FROM members WHERE user_id = %(sender)s AND active)
      AND NOT EXISTS (SELECT 1 FROM members WHERE request_state <> '')
      AND NOT (conv.kind = 'direct'
               AND EXISTS (SELECT 1 FROM members WHERE blocked AND user_id <> %(sender)s))
), message AS (
    INSERT INTO chat_message (conversation_id, sender_id, client_id, kind, text,
                              attachment_id, system, created_at)
    SELECT id, %(sender)s, %(client_id)s, %(kind)s, %(text)s, NULL, NULL, %(now)s
    FROM allowed
    ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
    RETURNING id
), touched AS (
    UPDATE chat_conversation SET last_activity_at = %(now)s
    WHERE id = (SELECT id FROM allowed) AND EXISTS (SELECT 1 FROM message)
), numbers AS (
    INSERT INTO chat_eventstream AS s (user_id, seq, compacted_through)
    SELECT user_id, 1, 0 FROM members
    WHERE EXISTS (SELECT 1 FROM message)
    ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET seq = s.seq + 1
    RETURNING s.user_id, s.seq
), stored AS (
    INSERT INTO chat_event (user_id, seq, type, payload, created_at)
    SELECT numbers.user_id, numbers.seq, %(event_type)s,
           jsonb_build_object('conversation', %(conversation_text)s::text,
                              'message_id', message.id),
           %(now)s
    FROM numbers, message
)
SELECT members.user_id, members.muted, conv.id, conv.kind, members.blocked,
       members.active, conv.closed_at, members.request_state, message.id, numbers.seq
FROM conv CROSS JOIN members
     LEFT JOIN message ON true
     LEFT JOIN numbers ON numbers.user_id = members.user_id
ORDER BY members.user_id
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
            _("A %(kind)s message needs a %(file_kind)s file.")
            % {"kind": kind, "file_kind": ATTACHMENT_KINDS[kind]},
            param="media",
        )
    if media_file.status != MediaStatus.READY:
        raise ApplicationError(
            "media_not_ready",
            _("The file is still being processed; send it when ready."),
            param="media",
            status_code=409,
        )
    return media_file


def _conversation_uuid(value: Any) -> uuid_lib.UUID:
    try:
        return uuid_lib.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Conversation not found.")) from None


def _push_enqueue(message_id: int) -> None:
    from chat.tasks import message_push_task

    task_send(message_push_task, message_id)


def _own_message_for_change(*, user: User, conversation_uuid: Any, message_id: Any) -> Message:
    membership = membership_access(user=user, conversation_uuid=conversation_uuid)
    try:
        mid = int(message_id)
    except (TypeError, ValueError):
        raise NotFoundError(_("Message not found.")) from None
    message = (
        Message.objects.select_for_update()
        .filter(conversation_id=membership.conversation_id, id=mid)
        .first()
    )
    if message is None:
        raise NotFoundError(_("Message not found."))
    message.conversation = membership.conversation
    message.sender = user if message.sender_id == user.pk else message.sender
    if message.sender_id != user.pk:
        raise ApplicationError("not_sender", _("Only the sender can do this."), status_code=403)
    if message.is_removed:
        raise ApplicationError("message_removed", _("This message was removed."), status_code=409)
    return message


def message_edit(*, user: User, conversation_uuid: Any, message_id: Any, text: Any) -> Message:
    """Edit one's text message within ``CHAT_EDIT_WINDOW``; the previous text is kept as
    a version for moderators (P8), never shown to members."""
    body = _text_clean(text, required=True)
    with transaction.atomic():
        message = _own_message_for_change(
            user=user, conversation_uuid=conversation_uuid, message_id=message_id
        )
        if message.kind != MessageKind.TEXT:
            raise ApplicationError("not_editable", _("Only text messages can be edited."))
        if timezone.now() - message.created_at > settings.CHAT_EDIT_WINDOW:
            raise ApplicationError(
                "edit_window_expired", _("This message can no longer be edited."), status_code=403
            )
        if body == message.text:
            return message
        MessageVersion.objects.create(
            message=message, text=message.text, created_at=message.edited_at or message.created_at
        )
        message.text = body
        message.edited_at = timezone.now()
        message.save(update_fields=["text", "edited_at"])
        events_append([message_updated_event(message, EventType.MESSAGE_UPDATED, {})])
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
                "recall_window_expired",
                _("This message can no longer be recalled."),
                status_code=403,
            )
        message_content_remove(message, recalled=True)
        events_append(
            [message_updated_event(message, EventType.MESSAGE_DELETED, {"mode": "recalled"})]
        )
    return message


def message_delete_for_me(*, user: User, conversation_uuid: Any, message_id: Any) -> None:
    """Hide a message for oneself only; the other members still see it."""
    membership = membership_access(user=user, conversation_uuid=conversation_uuid)
    try:
        mid = int(message_id)
    except (TypeError, ValueError):
        raise NotFoundError(_("Message not found.")) from None
    if not Message.objects.filter(conversation_id=membership.conversation_id, id=mid).exists():
        raise NotFoundError(_("Message not found."))
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
