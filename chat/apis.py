"""Chat REST API under /api/v1/ (thin: parse, call one service or selector, answer).

Every endpoint is members-only: a conversation the caller does not belong to is a
404, like one that does not exist (P11). Errors use the single error shape.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.current import current_user
from chat import payloads, selectors, services
from chat.history import history_page_payloads
from chat.models import Membership, MessageKind, ReportReason
from meetnow.lib.errors import ApplicationError
from meetnow.lib.pagination import CursorPagination
from meetnow.lib.schema import page_of
from meetnow.lib.throttling import OneRoundTripThrottlesMixin, PostScopedRateThrottle


class _Input(serializers.Serializer[Any]):
    """Input serializer that refuses unknown fields (a typo is a 400, not ignored)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("Unknown field.")] for name in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


def _valid(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _int_param(request: Request, name: str, *, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApplicationError(
            "invalid", _("%(name)s must be an integer.") % {"name": name}, param=name
        ) from None
    if value < 0:
        raise ApplicationError(
            "invalid", _("%(name)s must not be negative.") % {"name": name}, param=name
        )
    return value


# --- Response shapes (documentation; bodies are built by chat.payloads) --------------


class _Out(serializers.Serializer[Any]):
    pass


class AttachmentOut(_Out):
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["image", "audio", "video"])
    status = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    urls = serializers.DictField(child=serializers.CharField(), help_text="Short-lived signed")

    class Meta:
        ref_name = "ChatAttachment"


class MessageOut(_Out):
    id = serializers.IntegerField()
    conversation = serializers.UUIDField()
    sender = serializers.UUIDField(allow_null=True)
    client_id = serializers.UUIDField(allow_null=True)
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    text = serializers.CharField(allow_blank=True)
    system = serializers.JSONField(allow_null=True)
    attachment = AttachmentOut(allow_null=True)
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    recalled = serializers.BooleanField()
    removed_by_moderator = serializers.BooleanField()

    class Meta:
        ref_name = "ChatMessage"


class UserBriefOut(_Out):
    uuid = serializers.UUIDField()
    nickname = serializers.CharField()
    verified = serializers.BooleanField(help_text="Identity verified (the badge; P7)")

    class Meta:
        ref_name = "ChatUser"


class MemberOut(_Out):
    user = UserBriefOut()
    role = serializers.CharField()
    last_read_id = serializers.IntegerField(allow_null=True, help_text="null: receipts off")

    class Meta:
        ref_name = "ChatMember"


class ConversationOut(_Out):
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=["direct", "group"])
    title = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    closed = serializers.BooleanField(help_text="Readable, but nobody can send (match ended)")
    last_message = MessageOut(allow_null=True)
    unread_count = serializers.IntegerField()
    last_read_id = serializers.IntegerField()
    muted = serializers.BooleanField()
    role = serializers.CharField()
    request = serializers.ChoiceField(
        choices=["received", "pending"],
        allow_null=True,
        help_text="Message requests: received (in my requests list), pending (mine, not "
        "accepted), null for a normal conversation",
    )
    members = MemberOut(many=True, help_text="role 'invited': invited, not joined yet")

    class Meta:
        ref_name = "ChatConversation"


class ConversationPageOut(_Out):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ConversationOut(many=True)
    unread_total = serializers.IntegerField()

    class Meta:
        ref_name = "ChatConversationPage"


class HistoryOut(_Out):
    results = MessageOut(many=True)
    has_more = serializers.BooleanField()

    class Meta:
        ref_name = "ChatHistoryPage"


class SyncOut(_Out):
    events = serializers.ListField(child=serializers.DictField())
    cursor = serializers.IntegerField()
    has_more = serializers.BooleanField()

    class Meta:
        ref_name = "ChatSync"


class ReportOut(_Out):
    uuid = serializers.UUIDField()
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField(allow_blank=True)
    reported_user = serializers.UUIDField(allow_null=True)
    message_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    outcome = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ChatReport"


class ReportPageOut(_Out):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ReportOut(many=True)

    class Meta:
        ref_name = "ChatReportPage"


class SettingsOut(_Out):
    share_read_receipts = serializers.BooleanField()
    push_previews = serializers.BooleanField()

    class Meta:
        ref_name = "ChatSettings"


# --- Conversations -----------------------------------------------------------------


class ConversationPagination(CursorPagination):
    ordering = ("-activity", "-id")  # type: ignore[assignment]


class ConversationListApi(APIView):
    class InputSerializer(_Input):
        user = serializers.UUIDField(required=False)
        users = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=200)
        title = serializers.CharField(required=False, allow_blank=True, max_length=200)

        class Meta:
            ref_name = "ConversationCreate"

    @extend_schema(responses=ConversationPageOut, operation_id="conversations_list")
    def get(self, request: Request) -> Response:
        """My conversations, most recent activity first, with preview and unread count."""
        user = current_user(request)
        paginator = ConversationPagination()
        queryset: QuerySet[Membership] = selectors.conversation_memberships(user=user)
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        response = paginator.get_paginated_response(
            selectors.conversation_list_payloads(user=user, memberships=page)
        )
        response.data["unread_total"] = selectors.unread_total(user=user)
        return response

    @extend_schema(
        request=InputSerializer,
        responses={200: ConversationOut, 201: ConversationOut},
        operation_id="conversations_create",
    )
    def post(self, request: Request) -> Response:
        """With ``user``: the direct conversation with that person (created if needed).
        With ``title`` and ``users``: a new group."""
        user = current_user(request)
        data = _valid(self.InputSerializer, request.data)
        if "user" in data:
            if "users" in data or data.get("title"):
                raise ApplicationError(
                    "invalid",
                    _("Give either user (direct) or title and users (group)."),
                    param="user",
                )
            conversation, created = services.conversation_get_or_create_direct(
                user=user, other_uuid=data["user"]
            )
        elif "users" in data:
            conversation = services.group_create(
                owner=user, title=data.get("title", ""), member_uuids=data["users"]
            )
            created = True
        else:
            raise ApplicationError("invalid", _("Give user or users."), param="user")
        membership = selectors.membership_access(user=user, conversation_uuid=conversation.uuid)
        body = selectors.conversation_detail_payload(user=user, membership=membership)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ConversationDetailApi(APIView):
    @extend_schema(responses=ConversationOut)
    def get(self, request: Request, conversation_uuid: str) -> Response:
        user = current_user(request)
        membership = selectors.membership_access(user=user, conversation_uuid=conversation_uuid)
        return Response(selectors.conversation_detail_payload(user=user, membership=membership))


class ConversationMembersApi(APIView):
    class InputSerializer(_Input):
        users = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=200)

        class Meta:
            ref_name = "MembersAdd"

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """The group's owner adds members."""
        data = _valid(self.InputSerializer, request.data)
        services.group_members_add(
            actor=current_user(request),
            conversation_uuid=conversation_uuid,
            member_uuids=data["users"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationMemberApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, conversation_uuid: str, user_uuid: str) -> Response:
        """The owner removes a member (or anyone removes themself: leave)."""
        services.group_member_remove(
            actor=current_user(request), conversation_uuid=conversation_uuid, user_uuid=user_uuid
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationLeaveApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, conversation_uuid: str) -> Response:
        services.group_leave(user=current_user(request), conversation_uuid=conversation_uuid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationMuteApi(APIView):
    class InputSerializer(_Input):
        muted = serializers.BooleanField()

        class Meta:
            ref_name = "MuteSet"

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer("MuteOut", {"muted": serializers.BooleanField()}),
    )
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """Mute or unmute (no push for a muted conversation, P10)."""
        data = _valid(self.InputSerializer, request.data)
        membership = services.conversation_mute_set(
            user=current_user(request), conversation_uuid=conversation_uuid, muted=data["muted"]
        )
        return Response({"muted": membership.muted})


class ConversationReadApi(APIView):
    class InputSerializer(_Input):
        message_id = serializers.IntegerField(min_value=1)

        class Meta:
            ref_name = "ReadSet"

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer("ReadOut", {"last_read_id": serializers.IntegerField()}),
    )
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """I have read up to ``message_id``."""
        data = _valid(self.InputSerializer, request.data)
        membership = services.conversation_mark_read(
            user=current_user(request),
            conversation_uuid=conversation_uuid,
            message_id=data["message_id"],
        )
        return Response({"last_read_id": membership.last_read_id})


# --- Message requests (issue 15) ----------------------------------------------------


class RequestListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        responses=page_of(ConversationOut, "ChatRequestPage"),
        operation_id="chat_requests_list",
    )
    def get(self, request: Request) -> Response:
        """Message requests to me (direct conversations strangers started), most recent
        activity first: read them, then accept, decline or report."""
        user = current_user(request)
        paginator = ConversationPagination()
        page = (
            paginator.paginate_queryset(
                selectors.request_memberships(user=user), request, view=self
            )
            or []
        )
        return paginator.get_paginated_response(
            selectors.conversation_list_payloads(user=user, memberships=page)
        )


class RequestAcceptApi(APIView):
    @extend_schema(request=None, responses=ConversationOut, operation_id="chat_request_accept")
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """Accept: it becomes a normal conversation (in my list, events, receipts)."""
        user = current_user(request)
        membership = services.message_request_accept(user=user, conversation_uuid=conversation_uuid)
        return Response(selectors.conversation_detail_payload(user=user, membership=membership))


class RequestDeclineApi(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="chat_request_decline")
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """Decline: hidden for me; the sender can send no more (and is not told)."""
        services.message_request_decline(
            user=current_user(request), conversation_uuid=conversation_uuid
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RequestReportApi(OneRoundTripThrottlesMixin, APIView):
    throttle_scope = "chat_report"

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), PostScopedRateThrottle()]

    class InputSerializer(_Input):
        reason = serializers.ChoiceField(choices=ReportReason.choices)
        details = serializers.CharField(required=False, allow_blank=True, max_length=2000)

        class Meta:
            ref_name = "ChatRequestReport"

    @extend_schema(
        request=InputSerializer, responses={201: ReportOut}, operation_id="chat_request_report"
    )
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """Report the sender to the moderators, block them and decline the request."""
        data = _valid(self.InputSerializer, request.data)
        report = services.message_request_report(
            user=current_user(request),
            conversation_uuid=conversation_uuid,
            reason=data["reason"],
            details=data.get("details", ""),
        )
        return Response(payloads.report_payload(report), status=status.HTTP_201_CREATED)


# --- Group invitations (issue 15) ------------------------------------------------------


class InvitationOut(_Out):
    conversation = serializers.UUIDField()
    title = serializers.CharField(allow_blank=True)
    invited_by = UserBriefOut(allow_null=True)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ChatInvitation"


class InvitationListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        responses=page_of(InvitationOut, "ChatInvitationPage"),
        operation_id="chat_invitations_list",
    )
    def get(self, request: Request) -> Response:
        """Groups I am invited to and have not answered, newest first."""
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            selectors.invitations_of(user=current_user(request)), request, view=self
        )
        return paginator.get_paginated_response(
            [payloads.invitation_payload(i) for i in page or []]
        )


class InvitationAcceptApi(APIView):
    @extend_schema(request=None, responses=ConversationOut, operation_id="chat_invitation_accept")
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """Join the group (answer: the conversation, as its members see it)."""
        user = current_user(request)
        membership = services.group_invitation_accept(
            user=user, conversation_uuid=conversation_uuid
        )
        return Response(selectors.conversation_detail_payload(user=user, membership=membership))


class InvitationDeclineApi(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="chat_invitation_decline")
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """Decline: the group stays invisible and cannot invite me again."""
        services.group_invitation_decline(
            user=current_user(request), conversation_uuid=conversation_uuid
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Messages ----------------------------------------------------------------------


class MessageListApi(OneRoundTripThrottlesMixin, APIView):
    throttle_scope = "chat_send"

    def get_throttles(self) -> list[Any]:
        # A send counts against the send limit only (stricter than the general
        # per-user limit, and one counter less per message); reads against the general.
        if self.request.method == "POST":
            return [PostScopedRateThrottle()]
        return list(super().get_throttles())

    class InputSerializer(_Input):
        client_id = serializers.UUIDField()
        kind = serializers.ChoiceField(
            choices=[k for k in MessageKind.values if k != MessageKind.SYSTEM],
            default=MessageKind.TEXT,
        )
        text = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=False, default=""
        )
        media = serializers.UUIDField(required=False)

        class Meta:
            ref_name = "MessageSend"

    @extend_schema(
        parameters=[
            OpenApiParameter("before", int),
            OpenApiParameter("after", int),
            OpenApiParameter("limit", int),
        ],
        responses=HistoryOut,
        operation_id="messages_list",
    )
    def get(self, request: Request, conversation_uuid: str) -> Response:
        """History, newest first: ``?before=ID`` pages back, ``?after=ID`` forward."""
        user = current_user(request)
        before = _int_param(request, "before")
        after = _int_param(request, "after")
        if before is not None and after is not None:
            raise ApplicationError("invalid", _("Use before or after, not both."), param="after")
        limit = _int_param(request, "limit", default=50) or 50
        if limit > 100:
            raise ApplicationError("invalid", _("limit is at most 100."), param="limit")
        page = history_page_payloads(
            user_id=user.pk,
            conversation_uuid=conversation_uuid,
            before=before,
            after=after,
            limit=limit,
        )
        return Response({"results": page.results, "has_more": page.has_more})

    @extend_schema(
        request=InputSerializer,
        responses={200: MessageOut, 201: MessageOut},
        operation_id="messages_send",
    )
    def post(self, request: Request, conversation_uuid: str) -> Response:
        """Send. A retry with the same ``client_id`` returns the stored message (200).
        Apps with the WebSocket open send the same body as a ``message.send`` frame."""
        user = current_user(request)
        data = _valid(self.InputSerializer, request.data)
        message, created = services.message_send(
            sender=user,
            conversation_uuid=conversation_uuid,
            client_id=data["client_id"],
            kind=data["kind"],
            text=data["text"],
            media=data.get("media"),
        )
        return Response(
            payloads.message_payload(message),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessageDetailApi(APIView):
    class InputSerializer(_Input):
        text = serializers.CharField(allow_blank=True, trim_whitespace=False)

        class Meta:
            ref_name = "MessageEdit"

    @extend_schema(request=InputSerializer, responses=MessageOut)
    def patch(self, request: Request, conversation_uuid: str, message_id: int) -> Response:
        """Edit my text message (within the edit window)."""
        data = _valid(self.InputSerializer, request.data)
        message = services.message_edit(
            user=current_user(request),
            conversation_uuid=conversation_uuid,
            message_id=message_id,
            text=data["text"],
        )
        return Response(payloads.message_payload(message))

    @extend_schema(responses=MessageOut)
    def delete(self, request: Request, conversation_uuid: str, message_id: int) -> Response:
        """Recall my message for everyone (within the recall window): a tombstone stays."""
        message = services.message_recall(
            user=current_user(request), conversation_uuid=conversation_uuid, message_id=message_id
        )
        return Response(payloads.message_payload(message))


class MessageDeleteForMeApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, conversation_uuid: str, message_id: int) -> Response:
        """Hide a message for me only."""
        services.message_delete_for_me(
            user=current_user(request), conversation_uuid=conversation_uuid, message_id=message_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Sync and settings -------------------------------------------------------------


class SyncApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("since", int), OpenApiParameter("limit", int)],
        responses=SyncOut,
        operation_id="sync",
    )
    def get(self, request: Request) -> Response:
        """My events after ``since`` (without ``since``: just the current cursor).
        410 ``sync_refetch_required`` when too far behind."""
        user = current_user(request)
        result = selectors.sync_events(
            user=user,
            since=_int_param(request, "since"),
            limit=_int_param(request, "limit"),
        )
        return Response(
            {"events": result.events, "cursor": result.cursor, "has_more": result.has_more}
        )


class ChatSettingsApi(APIView):
    class InputSerializer(_Input):
        share_read_receipts = serializers.BooleanField(required=False)
        push_previews = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "ChatSettingsUpdate"

    @staticmethod
    def _out(row: Any) -> dict[str, Any]:
        return {"share_read_receipts": row.share_read_receipts, "push_previews": row.push_previews}

    @extend_schema(responses=SettingsOut, operation_id="chat_settings_get")
    def get(self, request: Request) -> Response:
        return Response(self._out(selectors.chat_settings_get(user=current_user(request))))

    @extend_schema(
        request=InputSerializer, responses=SettingsOut, operation_id="chat_settings_update"
    )
    def patch(self, request: Request) -> Response:
        data = _valid(self.InputSerializer, request.data)
        return Response(
            self._out(services.chat_settings_update(user=current_user(request), **data))
        )


# --- Reports (P8) ------------------------------------------------------------------


class ReportListApi(OneRoundTripThrottlesMixin, APIView):
    throttle_scope = "chat_report"

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), PostScopedRateThrottle()]

    class InputSerializer(_Input):
        reason = serializers.ChoiceField(choices=ReportReason.choices)
        details = serializers.CharField(required=False, allow_blank=True, max_length=2000)
        user = serializers.UUIDField(required=False)
        message_id = serializers.IntegerField(required=False, min_value=1)

        class Meta:
            ref_name = "ReportCreate"

    @extend_schema(responses=ReportPageOut, operation_id="reports_list")
    def get(self, request: Request) -> Response:
        """My reports and their outcomes."""
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            selectors.reports_of(user=current_user(request)), request, view=self
        )
        return paginator.get_paginated_response([payloads.report_payload(r) for r in page or []])

    @extend_schema(
        request=InputSerializer, responses={201: ReportOut}, operation_id="reports_create"
    )
    def post(self, request: Request) -> Response:
        data = _valid(self.InputSerializer, request.data)
        report = services.report_create(
            reporter=current_user(request),
            reason=data["reason"],
            details=data.get("details", ""),
            user_uuid=data.get("user"),
            message_id=data.get("message_id"),
        )
        return Response(payloads.report_payload(report), status=status.HTTP_201_CREATED)
