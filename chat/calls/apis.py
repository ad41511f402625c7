"""Calls over REST under /api/v1/calls (thin: parse, call one service or selector).

History, ICE servers with short-lived TURN credentials, one call, and the fallback a
phone woken by an incoming-call push uses before its socket is up: accept, decline,
cancel, hang up. Participants only: any other call is a 404 (P11).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.current import current_user
from chat.calls import services as calls
from chat.models import CallMedia, CallOutcome, CallState
from meetnow.lib.errors import ApplicationError
from meetnow.lib.pagination import CursorPagination


class _PeerOut(serializers.Serializer[Any]):
    uuid = serializers.UUIDField()
    nickname = serializers.CharField()
    verified = serializers.BooleanField(help_text="Identity verified (the badge; P7)")

    class Meta:
        ref_name = "CallPeer"


class CallOut(serializers.Serializer[Any]):
    uuid = serializers.UUIDField()
    conversation = serializers.UUIDField(
        allow_null=True, help_text="null: a call without a conversation (voice match)"
    )
    caller = serializers.UUIDField(allow_null=True)
    callee = serializers.UUIDField(allow_null=True)
    anonymous = serializers.BooleanField(
        help_text="The two people are hidden from each other (a voice match before a "
        "mutual like): caller, callee and peer are null"
    )
    media = serializers.ChoiceField(choices=CallMedia.choices)
    state = serializers.ChoiceField(choices=CallState.choices)
    outcome = serializers.ChoiceField(choices=CallOutcome.choices, allow_null=True)
    created_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=["outgoing", "incoming"])
    peer = _PeerOut(allow_null=True, help_text="null: the account was deleted, or anonymous")

    class Meta:
        ref_name = "Call"


class CallPageOut(serializers.Serializer[Any]):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CallOut(many=True)

    class Meta:
        ref_name = "CallPage"


class _IceServerOut(serializers.Serializer[Any]):
    urls = serializers.ListField(child=serializers.CharField())
    username = serializers.CharField(required=False)
    credential = serializers.CharField(required=False)

    class Meta:
        ref_name = "IceServer"


class IceServersOut(serializers.Serializer[Any]):
    ice_servers = _IceServerOut(many=True)
    ttl = serializers.IntegerField(help_text="Seconds the TURN credentials stay valid")
    expires_at = serializers.DateTimeField()

    class Meta:
        ref_name = "IceServers"


class CallListApi(APIView):
    @extend_schema(responses=CallPageOut, operation_id="calls_list")
    def get(self, request: Request) -> Response:
        """My calls, newest first (cursor-paginated): direction, peer, outcome, duration."""
        user = current_user(request)
        calls.calls_expire_overdue(user_ids=[user.pk])
        paginator = CursorPagination()
        page = paginator.paginate_queryset(calls.call_history(user=user), request, view=self)
        return paginator.get_paginated_response(
            [calls.call_payload(c, viewer_id=user.pk) for c in page or []]
        )


class IceServersApi(APIView):
    @extend_schema(responses=IceServersOut, operation_id="calls_ice_servers")
    def get(self, request: Request) -> Response:
        """STUN/TURN servers for WebRTC with TURN credentials valid ``ttl`` seconds
        (username ``expiry:user-uuid``, HMAC-SHA1 password). Fetch again before expiry."""
        response = Response(calls.turn_credentials(user=current_user(request)))
        response["Cache-Control"] = "no-store"
        return response


class CallDetailApi(APIView):
    @extend_schema(responses=CallOut, operation_id="calls_get")
    def get(self, request: Request, call_uuid: str) -> Response:
        user = current_user(request)
        call = calls.call_access(user=user, call_uuid=call_uuid)
        if call.state == CallState.RINGING and calls.calls_expire_overdue(user_ids=[user.pk]):
            call = calls.call_access(user=user, call_uuid=call_uuid)
        return Response(calls.call_payload(call, viewer_id=user.pk))


class _CallActionIn(serializers.Serializer[Any]):
    sdp = serializers.JSONField(required=False, help_text="accept only: {type: answer, sdp}")

    class Meta:
        ref_name = "CallAction"


class CallActionApi(APIView):
    """``accept`` (callee, optional SDP answer), ``decline``, ``cancel``, ``hangup``."""

    action: str = ""

    def post(self, request: Request, call_uuid: str) -> Response:
        user = current_user(request)
        data: Any = request.data if isinstance(request.data, dict) else {}
        unknown = sorted(set(data) - {"sdp"})
        if unknown:
            raise ApplicationError("unknown_field", _("Unknown field."), param=unknown[0])
        if self.action == "accept":
            answer = calls.sdp_clean(data.get("sdp"), kinds=("answer",), required=False)
            call = calls.call_accept(user=user, call_uuid=call_uuid, answer=answer)
        else:
            if "sdp" in data:
                raise ApplicationError("unknown_field", _("Unknown field."), param="sdp")
            call = calls.call_end(user=user, call_uuid=call_uuid, action=self.action)
        return Response(calls.call_payload(call, viewer_id=user.pk))


def _action_api(action: str, doc: str) -> type[CallActionApi]:
    @extend_schema(request=_CallActionIn, responses=CallOut, operation_id=f"calls_{action}")
    def post(self: CallActionApi, request: Request, call_uuid: str) -> Response:
        return CallActionApi.post(self, request, call_uuid)

    post.__doc__ = doc
    name = f"Call{action.capitalize()}Api"
    return type(name, (CallActionApi,), {"action": action, "post": post})


CALL_ACTION_APIS: dict[str, type[CallActionApi]] = {
    "accept": _action_api("accept", "Answer (callee), e.g. from an incoming-call push."),
    "decline": _action_api("decline", "Decline a ringing call (callee)."),
    "cancel": _action_api("cancel", "Cancel a ringing call (caller)."),
    "hangup": _action_api("hangup", "End the call (either side)."),
}
