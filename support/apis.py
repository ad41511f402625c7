"""Support ticket API (``/api/v1/support/tickets``): the app's customer service (P17)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.current import current_user
from meetnow.lib.pagination import CursorPagination
from meetnow.lib.throttling import PostScopedRateThrottle
from support.models import PICTURES_MAX, TEXT_MAX
from support.selectors import (
    support_ticket_access,
    support_tickets_of,
    ticket_detail_payload,
    ticket_summary_payload,
)
from support.services import (
    support_replies_mark_read,
    support_ticket_create,
    support_ticket_follow_up,
)


class SupportTicketCreateSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=TEXT_MAX)
    pictures = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=PICTURES_MAX
    )


class SupportTicketFollowUpSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=TEXT_MAX)


class SupportTicketListApi(APIView):
    throttle_scope = "support_ticket"

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), PostScopedRateThrottle()]

    @extend_schema(operation_id="support_tickets_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        """My support tickets, newest first, with the number of unread answers."""
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            support_tickets_of(user=current_user(request)), request, self
        )
        return paginator.get_paginated_response([ticket_summary_payload(t) for t in page or []])

    @extend_schema(
        operation_id="support_ticket_create",
        request=SupportTicketCreateSerializer,
        responses={201: dict},
    )
    def post(self, request: Request) -> Response:
        """Contact customer service: text and up to 5 pictures uploaded first with
        ``POST /api/v1/media`` (purpose ``support``)."""
        serializer = SupportTicketCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = current_user(request)
        ticket = support_ticket_create(
            user=user,
            text=serializer.validated_data["text"],
            picture_uuids=serializer.validated_data.get("pictures", []),
        )
        ticket = support_ticket_access(user=user, ticket_uuid=ticket.uuid)
        return Response(ticket_detail_payload(ticket), status=201)


class SupportTicketDetailApi(APIView):
    @extend_schema(operation_id="support_ticket_retrieve", responses={200: dict})
    def get(self, request: Request, ticket_uuid: str) -> Response:
        """One of my tickets with the answers of support; fetching marks them read."""
        ticket = support_ticket_access(user=current_user(request), ticket_uuid=ticket_uuid)
        payload = ticket_detail_payload(ticket)
        support_replies_mark_read(ticket=ticket)
        return Response(payload)


class SupportTicketReplyApi(APIView):
    throttle_scope = "support_ticket"

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), PostScopedRateThrottle()]

    @extend_schema(
        operation_id="support_ticket_follow_up",
        request=SupportTicketFollowUpSerializer,
        responses={201: dict},
    )
    def post(self, request: Request, ticket_uuid: str) -> Response:
        """Add to my ticket (e.g. answer a question of support); it reopens."""
        serializer = SupportTicketFollowUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = current_user(request)
        ticket = support_ticket_access(user=user, ticket_uuid=ticket_uuid)
        support_ticket_follow_up(ticket=ticket, text=serializer.validated_data["text"])
        ticket = support_ticket_access(user=user, ticket_uuid=ticket_uuid)
        return Response(ticket_detail_payload(ticket), status=201)
