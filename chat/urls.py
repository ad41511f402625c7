"""chat API routes (under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from chat import apis
from chat.calls import apis as call_apis

C = "conversations/<str:conversation_uuid>"

urlpatterns: list[URLPattern | URLResolver] = [
    path("conversations", apis.ConversationListApi.as_view(), name="conversations"),
    path(C, apis.ConversationDetailApi.as_view(), name="conversation"),
    path(f"{C}/members", apis.ConversationMembersApi.as_view(), name="conversation-members"),
    path(
        f"{C}/members/<str:user_uuid>",
        apis.ConversationMemberApi.as_view(),
        name="conversation-member",
    ),
    path(f"{C}/leave", apis.ConversationLeaveApi.as_view(), name="conversation-leave"),
    path(f"{C}/mute", apis.ConversationMuteApi.as_view(), name="conversation-mute"),
    path(f"{C}/read", apis.ConversationReadApi.as_view(), name="conversation-read"),
    path(f"{C}/messages", apis.MessageListApi.as_view(), name="messages"),
    path(f"{C}/messages/<int:message_id>", apis.MessageDetailApi.as_view(), name="message"),
    path(
        f"{C}/messages/<int:message_id>/delete-for-me",
        apis.MessageDeleteForMeApi.as_view(),
        name="message-delete-for-me",
    ),
    path("chat/requests", apis.RequestListApi.as_view(), name="chat-requests"),
    *(
        path(
            f"chat/requests/<str:conversation_uuid>/{action}",
            view.as_view(),
            name=f"chat-request-{action}",
        )
        for action, view in (
            ("accept", apis.RequestAcceptApi),
            ("decline", apis.RequestDeclineApi),
            ("report", apis.RequestReportApi),
        )
    ),
    path("chat/invitations", apis.InvitationListApi.as_view(), name="chat-invitations"),
    *(
        path(
            f"chat/invitations/<str:conversation_uuid>/{action}",
            view.as_view(),
            name=f"chat-invitation-{action}",
        )
        for action, view in (
            ("accept", apis.InvitationAcceptApi),
            ("decline", apis.InvitationDeclineApi),
        )
    ),
    path("sync", apis.SyncApi.as_view(), name="sync"),
    path("chat/settings", apis.ChatSettingsApi.as_view(), name="chat-settings"),
    path("reports", apis.ReportListApi.as_view(), name="reports"),
    # Calls (issue 8, chat/calls/apis.py)
    path("calls", call_apis.CallListApi.as_view(), name="calls"),
    path("calls/ice-servers", call_apis.IceServersApi.as_view(), name="calls-ice-servers"),
    path("calls/<str:call_uuid>", call_apis.CallDetailApi.as_view(), name="call"),
    *(
        path(
            f"calls/<str:call_uuid>/{action}",
            call_apis.CALL_ACTION_APIS[action].as_view(),
            name=f"call-{action}",
        )
        for action in ("accept", "decline", "cancel", "hangup")
    ),
]
