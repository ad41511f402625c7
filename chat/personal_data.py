"""Chat's personal data (DESIGN.md, docs/privacy.md): how it is exported, erased and kept.

Discovered by ``privacy`` (never imported by it by name). Messages the user sent
become tombstones so the others' history keeps its shape; conversations, reports
and calls stay for the other side without the user.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from chat.models import (
    Call,
    ChatSettings,
    Conversation,
    Event,
    EventStream,
    GroupInvitation,
    Membership,
    Message,
    MessageHidden,
    MessageVersion,
    Report,
)
from chat.services import (
    conversations_direct_key_erase,
    direct_key_of_user,
    messages_tombstone_for_sender,
)
from meetnow.lib.personal_data import (
    Declaration,
    EraseStep,
    ExportRows,
    ExportSection,
    Strategy,
    chunk_delete,
    chunk_update,
    count_of,
    plain_rows,
    rows_delete_step,
    section,
    step,
)
from meetnow.lib.timestamps import iso


def _calls_of(uid: int) -> QuerySet[Call]:
    return Call.objects.filter(Q(caller_id=uid) | Q(callee_id=uid))


erase_steps: list[EraseStep] = [
    step(
        "chat.MessageVersion",
        "delete",
        lambda c, n, _: chunk_delete(
            MessageVersion.objects.filter(message__sender_id=c.user_id), n
        ),
    ),
    step(
        "chat.Report",
        "pseudonymise_reported",
        lambda c, n, _: chunk_update(
            Report.objects.filter(
                Q(reported_user_id=c.user_id)
                | (Q(message__sender_id=c.user_id) & ~Q(evidence_text=""))
            ),
            n,
            reported_user=None,
            evidence_text="",
            evidence_attachment=None,
        ),
    ),
    step(
        "chat.Report",
        "pseudonymise_reporter",
        lambda c, n, _: chunk_update(
            Report.objects.filter(reporter_id=c.user_id), n, reporter=None
        ),
    ),
    step(
        "chat.Report",
        "pseudonymise_moderator",
        lambda c, n, _: chunk_update(
            Report.objects.filter(resolved_by_id=c.user_id), n, resolved_by=None
        ),
    ),
    step(
        "chat.Message",
        "tombstone",
        lambda c, n, _: messages_tombstone_for_sender(user_id=c.user_id, limit=n),
    ),
    rows_delete_step(MessageHidden),
    step(
        "chat.Conversation",
        "pseudonymise_owner",
        lambda c, n, _: chunk_update(
            Conversation.objects.filter(owner_id=c.user_id), n, owner=None
        ),
    ),
    step(
        "chat.Conversation",
        "pseudonymise_direct_key",
        lambda c, n, _: conversations_direct_key_erase(user_id=c.user_id, limit=n),
    ),
    rows_delete_step(Membership),
    rows_delete_step(GroupInvitation),
    step(
        "chat.GroupInvitation",
        "pseudonymise_inviter",
        lambda c, n, _: chunk_update(
            GroupInvitation.objects.filter(invited_by_id=c.user_id), n, invited_by=None
        ),
    ),
    rows_delete_step(Event),
    rows_delete_step(EventStream),
    rows_delete_step(ChatSettings),
    step(
        "chat.Call",
        "pseudonymise_caller",
        lambda c, n, _: chunk_update(Call.objects.filter(caller_id=c.user_id), n, caller=None),
    ),
    step(
        "chat.Call",
        "pseudonymise_callee",
        lambda c, n, _: chunk_update(Call.objects.filter(callee_id=c.user_id), n, callee=None),
    ),
]


declarations: list[Declaration] = [
    Declaration(
        "chat.Conversation",
        Strategy.PSEUDONYMISE,
        "conversations.json",
        "account",
        "Kept for the other members; owner cleared, the direct key no longer holds the id.",
        remaining=lambda uid: Conversation.objects.filter(
            Q(owner_id=uid) | direct_key_of_user(uid)
        ).count(),
    ),
    Declaration(
        "chat.Membership",
        Strategy.DELETE,
        "conversations.json",
        "chat_requests",
        "With where a message request to the user stands (request_state: pending, "
        "declined, or empty once accepted); deleted with the account. A request never "
        "accepted (declined or still pending) is deleted with its conversation 90 days "
        "after its last message.",
        remaining=count_of(Membership, "user_id"),
    ),
    Declaration(
        "chat.GroupInvitation",
        Strategy.DELETE,
        "group_invitations.json",
        "chat_declined_invitations",
        "Invitations to groups the user received (pending or declined: a declined one "
        "is kept 90 days so that group cannot invite them again meanwhile), deleted with "
        "the account or the group; invitations the user sent are kept for their invitee "
        "without the inviter.",
        remaining=lambda uid: GroupInvitation.objects.filter(
            Q(user_id=uid) | Q(invited_by_id=uid)
        ).count(),
    ),
    Declaration(
        "chat.Message",
        Strategy.TOMBSTONE,
        "messages.json",
        "tombstones",
        "Sent: content and attachments removed, sender shown as 'Deleted user'. "
        "Received: kept for the others.",
        remaining=count_of(Message, "sender_id"),
    ),
    Declaration(
        "chat.MessageVersion",
        Strategy.DELETE,
        "message_versions.json",
        "account",
        "Earlier texts of the user's edited messages.",
    ),
    Declaration(
        "chat.MessageHidden",
        Strategy.DELETE,
        "messages_hidden.json",
        "account",
        remaining=count_of(MessageHidden, "user_id"),
    ),
    Declaration(
        "chat.EventStream",
        Strategy.DELETE,
        "",
        "account",
        "Sync counter of the user's devices: no content.",
        remaining=count_of(EventStream, "user_id"),
    ),
    Declaration(
        "chat.Event",
        Strategy.DELETE,
        "",
        "chat_events",
        "Delivery queue of the user's devices (ids only), compacted by chat; the data "
        "it points to is exported from messages and conversations.",
        remaining=count_of(Event, "user_id"),
    ),
    Declaration(
        "chat.ChatSettings",
        Strategy.DELETE,
        "chat_settings.json",
        "account",
        remaining=count_of(ChatSettings, "user_id"),
    ),
    Declaration(
        "chat.Report",
        Strategy.PSEUDONYMISE,
        "reports.json",
        "reports",
        "Reports made: exported, reporter cleared on erasure. Reports about the user: "
        "kept for moderation without the reported user or the evidence text.",
        remaining=lambda uid: Report.objects.filter(
            Q(reporter_id=uid) | Q(reported_user_id=uid) | Q(resolved_by_id=uid)
        ).count(),
    ),
    Declaration(
        "chat.Call",
        Strategy.PSEUDONYMISE,
        "calls.json",
        "calls",
        "Call history: kept for the other side without the erased user (no SDP, ICE or "
        "IP is ever stored).",
        remaining=lambda uid: _calls_of(uid).count(),
    ),
]


# --- Export ----------------------------------------------------------------------------------


def _visible_messages(uid: int) -> QuerySet[Message]:
    """What the user could see: conversations they are in (minus messages they hid),
    and every message they sent."""
    member_of = Membership.objects.filter(user_id=uid, left_at__isnull=True).values(
        "conversation_id"
    )
    hidden = MessageHidden.objects.filter(user_id=uid).values("message_id")
    return Message.objects.filter(
        (Q(conversation_id__in=member_of) & ~Q(pk__in=hidden)) | Q(sender_id=uid)
    )


def _message_rows(uid: int, after: int, limit: int) -> ExportRows:
    # Plain values, no model instances: 100,000 messages stay cheap to read.
    rows = (
        _visible_messages(uid)
        .filter(pk__gt=after)
        .order_by("pk")
        .values_list(
            "pk",
            "conversation__uuid",
            "sender_id",
            "sender__uuid",
            "kind",
            "text",
            "system",
            "created_at",
            "edited_at",
            "recalled_at",
            "moderated_at",
            "attachment__uuid",
        )[:limit]
    )
    return [(row[0], _message_row(uid, row)) for row in rows]


def _message_row(uid: int, row: tuple[Any, ...]) -> dict[str, Any]:
    pk, conv, sender_id, sender_uuid, kind, text, system, created, edited = row[:9]
    recalled, moderated, attachment = row[9:]
    removed = recalled is not None or moderated is not None
    mine = sender_id == uid
    return {
        "id": pk,
        "conversation": str(conv),
        "sender": "me" if mine else (str(sender_uuid) if sender_uuid else None),
        "kind": kind,
        "text": "" if removed and not mine else text,
        "system": system,
        "created_at": iso(created),
        "edited_at": iso(edited),
        "recalled": recalled is not None,
        "removed_by_moderator": moderated is not None,
        # The file itself is in files/ when it is one of the user's uploads.
        "attachment": str(attachment) if attachment and not removed else None,
    }


def _call_rows(uid: int, after: int, limit: int) -> ExportRows:
    rows = (
        _calls_of(uid)
        .filter(pk__gt=after)
        .order_by("pk")
        .values_list(
            "pk",
            "uuid",
            "conversation__uuid",
            "caller_id",
            "media",
            "outcome",
            "created_at",
            "accepted_at",
            "ended_at",
            "duration_seconds",
        )[:limit]
    )
    return [
        (
            pk,
            {
                "uuid": str(call_uuid),
                "conversation": str(conv) if conv else None,
                "direction": "outgoing" if caller == uid else "incoming",
                "media": media,
                "outcome": outcome,
                "created_at": iso(created),
                "accepted_at": iso(accepted),
                "ended_at": iso(ended),
                "duration_seconds": duration,
            },
        )
        for (
            pk,
            call_uuid,
            conv,
            caller,
            media,
            outcome,
            created,
            accepted,
            ended,
            duration,
        ) in rows
    ]


export_sections: list[ExportSection] = [
    section(
        "chat_settings",
        gettext_lazy("Your chat preferences: read receipts, push previews."),
        plain_rows(
            lambda uid: ChatSettings.objects.filter(user_id=uid),
            ["share_read_receipts", "push_previews"],
        ),
        lambda uid: ChatSettings.objects.filter(user_id=uid).count(),
    ),
    section(
        "conversations",
        gettext_lazy(
            "Conversations you are or were in: kind, title, your role, when you joined and "
            "left, and message requests to you (request_state: pending or declined)."
        ),
        plain_rows(
            lambda uid: Membership.objects.filter(user_id=uid),
            [
                "conversation__uuid",
                "conversation__kind",
                "conversation__title",
                "role",
                "joined_at",
                "left_at",
                "muted",
                "last_read_id",
                "request_state",
            ],
            related=("conversation",),
        ),
        lambda uid: Membership.objects.filter(user_id=uid).count(),
    ),
    section(
        "group_invitations",
        gettext_lazy(
            "Invitations to groups you received: the group, who invited you, when, and "
            "whether you declined."
        ),
        plain_rows(
            lambda uid: GroupInvitation.objects.filter(user_id=uid),
            [
                "conversation__uuid",
                "conversation__title",
                "invited_by__uuid",
                "created_at",
                "declined_at",
            ],
            related=("conversation", "invited_by"),
        ),
        lambda uid: GroupInvitation.objects.filter(user_id=uid).count(),
    ),
    section(
        "messages",
        gettext_lazy(
            "Messages you can see: all you sent, and those of others in your conversations "
            "(minus those you deleted for yourself). Senders are 'me' or a user id."
        ),
        _message_rows,
        lambda uid: _visible_messages(uid).count(),
    ),
    section(
        "message_versions",
        gettext_lazy("Earlier texts of messages you edited."),
        plain_rows(
            lambda uid: MessageVersion.objects.filter(message__sender_id=uid),
            ["message_id", "text", "created_at"],
        ),
        lambda uid: MessageVersion.objects.filter(message__sender_id=uid).count(),
    ),
    section(
        "messages_hidden",
        gettext_lazy("Messages you deleted for yourself (ids)."),
        plain_rows(
            lambda uid: MessageHidden.objects.filter(user_id=uid), ["message_id", "created_at"]
        ),
        lambda uid: MessageHidden.objects.filter(user_id=uid).count(),
    ),
    section(
        "reports",
        gettext_lazy("Reports you made about users or messages, and their status."),
        plain_rows(
            lambda uid: Report.objects.filter(reporter_id=uid),
            [
                "uuid",
                "reason",
                "details",
                "reported_user__uuid",
                "message_id",
                "status",
                "created_at",
                "resolved_at",
            ],
            related=("reported_user",),
        ),
        lambda uid: Report.objects.filter(reporter_id=uid).count(),
    ),
    section(
        "calls",
        gettext_lazy(
            "Your voice and video calls: when, with whom (conversation), outcome, duration."
        ),
        _call_rows,
        lambda uid: _calls_of(uid).count(),
    ),
]
