"""Support ticket API (``/api/v1/support/tickets``): the app's customer service (P17)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.current import current_user
from meetnow.lib.errors import ApplicationError
from meetnow.lib.pagination import CursorPagination
from meetnow.lib.throttling import (
    OneRoundTripThrottlesMixin,
    PostScopedRateThrottle,
    ScopedRateThrottle,
)
from support.models import CONTACT_MAX, PICTURES_MAX, TEXT_MAX, TicketTopic
from support.selectors import (
    support_ticket_access,
    support_tickets_of,
    ticket_detail_payload,
    ticket_summary_payload,
)
from support.services import (
    support_replies_mark_read,
    support_ticket_create,
    support_ticket_create_public,
    support_ticket_follow_up,
)


class SupportTicketCreateSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=TEXT_MAX)
    pictures = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=PICTURES_MAX
    )


class SupportTicketFollowUpSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=TEXT_MAX)


class SupportTicketListApi(OneRoundTripThrottlesMixin, APIView):
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


class SupportTicketReplyApi(OneRoundTripThrottlesMixin, APIView):
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


class ClientIpScopedThrottle(ScopedRateThrottle):
    """The scoped limit per client IP as the sign-up sees it (allauth's adapter, which
    trusts only ``ALLAUTH_TRUSTED_PROXY_COUNT`` proxies): a forged X-Forwarded-For does
    not buy a fresh counter."""

    def get_ident(self, request: Any) -> str:
        try:
            ip = get_adapter(request._request).get_client_ip(request._request)
        except Exception:  # allauth refuses a request it can't place; count the socket
            ip = None
        return str(ip or request.META.get("REMOTE_ADDR") or "unknown")


class PublicTicketSerializer(serializers.Serializer[Any]):
    topic = serializers.ChoiceField(choices=TicketTopic.choices)
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="A number to call back."
    )
    contact = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=CONTACT_MAX,
        help_text="Another way to reach you (e-mail, other number); phone or contact needed.",
    )
    text = serializers.CharField(max_length=TEXT_MAX)


class PublicTicketCreatedSerializer(serializers.Serializer[Any]):
    reference = serializers.UUIDField()


_ERROR = {"$ref": "#/components/schemas/ErrorResponse"}


class SupportPublicTicketApi(OneRoundTripThrottlesMixin, APIView):
    """The public form (no account, issue 19): "Can't log in? Contact support"."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (JSONParser,)
    throttle_classes = (ClientIpScopedThrottle,)
    throttle_scope = "support_public"

    @extend_schema(
        operation_id="support_public_ticket_create",
        request=PublicTicketSerializer,
        responses={
            201: PublicTicketCreatedSerializer,
            400: OpenApiResponse(
                _ERROR, description="Bad input (`invalid_phone`, `contact_required`, …)."
            ),
            413: OpenApiResponse(_ERROR, description="`request_too_large`: the body is too big."),
            429: OpenApiResponse(
                _ERROR, description="`rate_limited`: too many from this IP or this contact."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        """Contact support without an account (or without the number): a topic, a phone
        number and/or another contact, and the text. Answers only the ticket's reference;
        support answers through the contact given. Limited per IP and per contact."""
        limit = settings.MEETNOW_SUPPORT_PUBLIC_BODY_MAX
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise ApplicationError(
                "request_too_large",
                _("The request is too large (at most %(limit)s bytes).") % {"limit": limit},
                status_code=413,
            )
        serializer = PublicTicketSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = support_ticket_create_public(
            topic=data["topic"],
            phone=data.get("phone", ""),
            contact=data.get("contact", ""),
            text=data["text"],
        )
        return Response(PublicTicketCreatedSerializer({"reference": ticket.uuid}).data, status=201)
