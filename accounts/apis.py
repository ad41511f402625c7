"""REST API of accounts (under /api/v1/): thin views over services and selectors."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import payloads, selectors, services
from accounts.current import current_user
from accounts.models import Block, DmFrom, Gender, Platform, SecurityEvent, User
from meetnow.lib.pagination import CursorPagination
from meetnow.lib.schema import page_of


class StrictInputSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not know (``unknown_field``), so nothing extra is collected (P5)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Expected a JSON object.")]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")]
                    for name in unknown
                }
            )
        return super().to_internal_value(data)


def _client_ip(request: Request) -> str | None:
    try:
        ip: str | None = get_adapter(request._request).get_client_ip(request._request)
    except Exception:
        return None
    return ip


def _session_key(request: Request) -> str:
    return str(getattr(request.auth, "session_key", "") or "")


# Output serializers here declare the schema only; bodies come from accounts/payloads.py
# (docs/architecture.md, "Output shape").


class ProfileMediaSerializer(serializers.Serializer[Any]):
    """A profile photo or voice intro with signed URLs to its copies (P11, P12)."""

    class Meta:
        ref_name = "ProfileMedia"

    id = serializers.UUIDField()
    status = serializers.CharField()
    kind = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    urls = serializers.DictField(child=serializers.CharField(), read_only=True)


class PublicProfileSerializer(serializers.Serializer[Any]):
    """What anyone may see of a user (P11): never birth date, phone, devices or IPs."""

    class Meta:
        ref_name = "PublicProfile"

    id = serializers.UUIDField()
    nickname = serializers.CharField()
    gender = serializers.CharField()
    age = serializers.IntegerField(allow_null=True, read_only=True)
    # The identity badge (P7): the only thing others learn of a verification.
    verified = serializers.BooleanField()
    avatar = ProfileMediaSerializer(allow_null=True, read_only=True)
    voice_intro = ProfileMediaSerializer(allow_null=True, read_only=True)


# --- /me ------------------------------------------------------------------------------


class MeApi(APIView):
    class InputSerializer(StrictInputSerializer):
        class Meta:
            ref_name = "MeUpdate"

        nickname = serializers.CharField(max_length=40, allow_blank=True, required=False)
        gender = serializers.ChoiceField(
            choices=[*Gender.values, ""], allow_blank=True, required=False
        )
        bio = serializers.CharField(max_length=500, allow_blank=True, required=False)
        push_enabled = serializers.BooleanField(required=False)
        hidden_from_discover = serializers.BooleanField(required=False)
        dm_from = serializers.ChoiceField(choices=DmFrom.choices, required=False)
        avatar = serializers.UUIDField(allow_null=True, required=False)
        voice_intro = serializers.UUIDField(allow_null=True, required=False)
        language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
        time_zone = serializers.CharField(max_length=64, allow_blank=True, required=False)

    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "Me"

        id = serializers.UUIDField()
        phone = serializers.CharField(allow_null=True)
        phone_display = serializers.CharField(
            read_only=True,
            help_text="The number as its owner reads it (national format in their own region).",
        )
        phone_verified = serializers.BooleanField()
        language = serializers.CharField()
        time_zone = serializers.CharField(
            read_only=True,
            help_text="The zone texts use: the one the app sent, else the language's default.",
        )
        nickname = serializers.CharField()
        gender = serializers.CharField()
        bio = serializers.CharField()
        date_of_birth = serializers.DateField(allow_null=True)
        age = serializers.IntegerField(allow_null=True, read_only=True)
        identity_verified = serializers.BooleanField()
        push_enabled = serializers.BooleanField()
        hidden_from_discover = serializers.BooleanField()
        dm_from = serializers.ChoiceField(
            choices=DmFrom.choices,
            help_text="Who may start a direct conversation with me: everyone (strangers as "
            "message requests) or matches only.",
        )
        date_joined = serializers.DateTimeField()
        avatar = ProfileMediaSerializer(allow_null=True)
        voice_intro = ProfileMediaSerializer(allow_null=True)

    @extend_schema(responses=OutputSerializer, operation_id="me_get")
    def get(self, request: Request) -> Response:
        return Response(payloads.me_payload(current_user(request)))

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="me_update")
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(
            user=current_user(request), data=serializer.validated_data
        )
        return Response(payloads.me_payload(user))


class UserDetailApi(APIView):
    @extend_schema(responses=PublicProfileSerializer, operation_id="user_public")
    def get(self, request: Request, user_uuid: UUID) -> Response:
        user = selectors.user_public_get(viewer=current_user(request), user_uuid=user_uuid)
        return Response(payloads.public_profile_payload(user))


class DiscoverApi(APIView):
    class FilterSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "DiscoverFilter"

        gender = serializers.ChoiceField(choices=Gender.values, required=False)
        age_min = serializers.IntegerField(min_value=0, max_value=150, required=False)
        age_max = serializers.IntegerField(min_value=0, max_value=150, required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            low, high = attrs.get("age_min"), attrs.get("age_max")
            if low is not None and high is not None and low > high:
                raise serializers.ValidationError(
                    {"age_min": [_("age_min is above age_max.")]}, code="invalid"
                )
            return attrs

    class Pagination(CursorPagination):
        page_size = 20

    @extend_schema(
        parameters=[
            OpenApiParameter("gender", str, enum=Gender.values),
            OpenApiParameter("age_min", int),
            OpenApiParameter("age_max", int),
            OpenApiParameter("cursor", str),
            OpenApiParameter("limit", int),
        ],
        responses=page_of(PublicProfileSerializer, "PublicProfilePage"),
        operation_id="discover",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        users = selectors.discover_users(viewer=current_user(request), **filters.validated_data)
        paginator = self.Pagination()
        page = paginator.paginate_queryset(users, request, view=self)
        return paginator.get_paginated_response(
            [payloads.public_profile_payload(u) for u in page or []]
        )


# --- Blocks -----------------------------------------------------------------------------


class BlockListApi(APIView):
    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "BlockedUser"

        user = PublicProfileSerializer()
        created_at = serializers.DateTimeField()

    @extend_schema(
        responses=page_of(OutputSerializer, "BlockedUserPage"),
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        operation_id="blocks_list",
    )
    def get(self, request: Request) -> Response:
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            selectors.blocks_made(user=current_user(request)), request
        )
        return paginator.get_paginated_response([payloads.block_payload(b) for b in page or []])


class BlockApi(APIView):
    @extend_schema(request=None, responses=BlockListApi.OutputSerializer, operation_id="block")
    def post(self, request: Request, user_uuid: UUID) -> Response:
        blocked = selectors.user_get_by_uuid(user_uuid=user_uuid)
        block: Block = services.block_create(blocker=current_user(request), blocked=blocked)
        return Response(payloads.block_payload(block), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, operation_id="unblock")
    def delete(self, request: Request, user_uuid: UUID) -> Response:
        blocked = User.objects.filter(uuid=user_uuid).first()
        if blocked is not None:
            services.block_delete(blocker=current_user(request), blocked=blocked)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Devices ----------------------------------------------------------------------------


# The connection the app was on when it registered (P5 lists "network type").
NETWORK_TYPES = ("wifi", "cellular", "2g", "3g", "4g", "5g", "ethernet", "none", "unknown")


class DeviceOutputSerializer(serializers.Serializer[Any]):
    class Meta:
        ref_name = "Device"

    id = serializers.IntegerField()
    device_id = serializers.CharField()
    platform = serializers.CharField()
    model = serializers.CharField()
    os_version = serializers.CharField()
    app_version = serializers.CharField()
    network_type = serializers.CharField()
    push_enabled = serializers.BooleanField()
    has_push_token = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    current = serializers.BooleanField(read_only=True)


class DeviceListApi(APIView):
    class InputSerializer(StrictInputSerializer):
        class Meta:
            ref_name = "DeviceRegister"

        device_id = serializers.CharField(max_length=128)
        platform = serializers.ChoiceField(choices=Platform.values)
        model = serializers.CharField(max_length=64, allow_blank=True, required=False)
        os_version = serializers.CharField(max_length=32, allow_blank=True, required=False)
        app_version = serializers.CharField(max_length=32, allow_blank=True, required=False)
        network_type = serializers.ChoiceField(
            choices=NETWORK_TYPES, allow_blank=True, required=False
        )
        push_token = serializers.CharField(max_length=512, allow_blank=True, required=False)
        push_enabled = serializers.BooleanField(required=False)

    @extend_schema(responses=DeviceOutputSerializer(many=True), operation_id="devices_list")
    def get(self, request: Request) -> Response:
        devices = selectors.devices_of(user=current_user(request)).order_by("-last_seen_at", "-pk")
        key = _session_key(request)
        return Response([payloads.device_payload(d, session_key=key) for d in devices])

    @extend_schema(
        request=InputSerializer, responses=DeviceOutputSerializer, operation_id="device_register"
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        device, created = services.device_register(
            user=current_user(request),
            device_id=data.pop("device_id"),
            session_key=_session_key(request),
            ip_address=_client_ip(request),
            data=data,
        )
        return Response(
            payloads.device_payload(device, session_key=_session_key(request)),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DeviceDetailApi(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="device_remove")
    def delete(self, request: Request, device_pk: int) -> Response:
        device = selectors.device_get(user=current_user(request), device_pk=device_pk)
        services.device_remove(
            user=current_user(request), device=device, ip_address=_client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Linked third-party accounts --------------------------------------------------------


class SocialAccountListApi(APIView):
    """Linked providers (link with allauth's provider/token, ``process: "connect"``)."""

    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "LinkedAccount"

        id = serializers.IntegerField()
        provider = serializers.CharField()
        date_joined = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="social_accounts_list")
    def get(self, request: Request) -> Response:
        accounts = selectors.social_accounts_of(user=current_user(request))
        return Response([payloads.linked_account_payload(a) for a in accounts])


class SocialAccountDetailApi(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="social_account_unlink")
    def delete(self, request: Request, account_pk: int) -> Response:
        services.social_account_unlink(
            user=current_user(request), account_id=account_pk, ip_address=_client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Sessions and security events ---------------------------------------------------------


class SessionListApi(APIView):
    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "Session"

        id = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        last_seen_at = serializers.DateTimeField()
        ip_address = serializers.CharField(allow_null=True)
        current = serializers.BooleanField()
        device = DeviceOutputSerializer(allow_null=True)

    @extend_schema(responses=OutputSerializer(many=True), operation_id="sessions_list")
    def get(self, request: Request) -> Response:
        key = _session_key(request)
        sessions = selectors.sessions_of(user=current_user(request), current_session_key=key)
        return Response([payloads.session_payload(s, session_key=key) for s in sessions])


class SessionDetailApi(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="session_end")
    def delete(self, request: Request, session_pk: int) -> Response:
        services.session_end(
            user=current_user(request), session_id=session_pk, ip_address=_client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionEndOthersApi(APIView):
    @extend_schema(
        request=None,
        responses={200: {"type": "object", "properties": {"ended": {"type": "integer"}}}},
        operation_id="sessions_end_others",
    )
    def post(self, request: Request) -> Response:
        ended = services.sessions_end_others(
            user=current_user(request),
            current_session_key=_session_key(request),
            ip_address=_client_ip(request),
        )
        return Response({"ended": ended})


class SecurityEventListApi(APIView):
    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "SecurityEvent"

        kind = serializers.CharField()
        created_at = serializers.DateTimeField()
        ip_address = serializers.CharField(allow_null=True)
        device_id = serializers.IntegerField(allow_null=True)

    @extend_schema(
        responses=page_of(OutputSerializer, "SecurityEventPage"),
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        operation_id="security_events",
    )
    def get(self, request: Request) -> Response:
        paginator = CursorPagination()
        events = selectors.security_events_of(user=current_user(request))
        page: list[SecurityEvent] = paginator.paginate_queryset(events, request) or []
        return paginator.get_paginated_response([payloads.security_event_payload(e) for e in page])
