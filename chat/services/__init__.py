"""Chat's writes, by topic: ``conversations`` (direct and group conversations,
members, mute, read state, settings), ``messages`` (send, edit, recall, delete for
me), ``reports`` (reports and moderation, P8) and ``erasure`` (a user's chat data,
for ``chat/personal_data.py``). Shared helpers are in ``common``.

Every public name is importable from ``chat.services`` itself.
"""

from __future__ import annotations

from chat.services import conversations, erasure, messages, reports, requests
from chat.services.conversations import (
    chat_settings_update,
    conversation_close_set,
    conversation_get_or_create_direct,
    conversation_mark_read,
    conversation_mute_set,
    direct_key_for,
    direct_key_of_user,
    group_create,
    group_invitation_accept,
    group_invitation_decline,
    group_leave,
    group_member_remove,
    group_members_add,
)
from chat.services.erasure import (
    conversations_direct_key_erase,
    messages_tombstone_for_sender,
)
from chat.services.messages import (
    ATTACHMENT_KINDS,
    USER_KINDS,
    message_delete_for_me,
    message_edit,
    message_recall,
    message_send,
)
from chat.services.reports import (
    REPORT_CLOSE_FIELDS,
    message_moderate_hide,
    report_close,
    report_create,
    report_details_clean,
    report_resolve,
)
from chat.services.requests import (
    declined_invitations_purge,
    message_request_accept,
    message_request_decline,
    message_request_report,
    unanswered_requests_purge,
)

__all__ = [
    "ATTACHMENT_KINDS",
    "REPORT_CLOSE_FIELDS",
    "USER_KINDS",
    "chat_settings_update",
    "conversation_close_set",
    "conversation_get_or_create_direct",
    "conversation_mark_read",
    "conversation_mute_set",
    "conversations",
    "conversations_direct_key_erase",
    "declined_invitations_purge",
    "direct_key_for",
    "direct_key_of_user",
    "erasure",
    "group_create",
    "group_invitation_accept",
    "group_invitation_decline",
    "group_leave",
    "group_member_remove",
    "group_members_add",
    "message_delete_for_me",
    "message_edit",
    "message_moderate_hide",
    "message_recall",
    "message_request_accept",
    "message_request_decline",
    "message_request_report",
    "message_send",
    "messages",
    "messages_tombstone_for_sender",
    "report_close",
    "report_create",
    "report_details_clean",
    "report_resolve",
    "reports",
    "requests",
    "unanswered_requests_purge",
]
