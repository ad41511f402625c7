"""Identity verification API (under /api/v1/identity): thin views over services (P7)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import StrictInputSerializer
from accounts.current import current_user
from accounts.identity import selectors, services
from accounts.identity.models import FailureReason, VerificationStatus
from meetnow.lib.timestamps import iso


class IdentityStatusSerializer(serializers.Serializer[Any]):
    class Meta:
        ref_name = "IdentityStatus"

    status = serializers.ChoiceField(choices=["none", *VerificationStatus.values])
    reason_code = serializers.ChoiceField(choices=["", *FailureReason.values])
    verified_at = serializers.DateTimeField(allow_null=True)
    attempts_left = serializers.IntegerField()
    consent_given = serializers.BooleanField(
        help_text="The separate consent to the identity notice is given (else show it first)"
    )


class IdentityApi(APIView):
    @extend_schema(responses=IdentityStatusSerializer, operation_id="identity_status")
    def get(self, request: Request) -> Response:
        state = selectors.identity_state(user=current_user(request))
        return Response(
            {
                "status": state.status,
                "reason_code": state.reason_code,
                "verified_at": iso(state.verified_at),
                "attempts_left": state.attempts_left,
                "consent_given": state.consent_given,
            }
        )


class IdentityVerificationStartApi(APIView):
    """Start a verification: real name and resident ID number, then the provider's
    liveness step in the app with what ``client`` holds."""

    class InputSerializer(StrictInputSerializer):
        class Meta:
            ref_name = "IdentityVerificationStart"

        name = serializers.CharField(max_length=64, trim_whitespace=True)
        id_number = serializers.CharField(max_length=32, trim_whitespace=True)

    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "IdentityVerificationStarted"

        id = serializers.UUIDField()
        status = serializers.CharField()
        provider = serializers.CharField()
        client = serializers.DictField(child=serializers.CharField(allow_blank=True))

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer}, operation_id="identity_start"
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        started = services.identity_verification_start(
            user=current_user(request),
            name=serializer.validated_data["name"],
            id_number=serializer.validated_data["id_number"],
        )
        verification = started.verification
        body = {
            "id": str(verification.uuid),
            "status": verification.status,
            "provider": verification.provider,
            "client": {
                str(key): None if value is None else str(value)
                for key, value in started.client.items()
            },
        }
        return Response(body, status=status.HTTP_201_CREATED)


class IdentityCallbackApi(APIView):
    """The provider's signed result notice (no session: the signature is the credential)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={200: {"type": "object", "properties": {"status": {"type": "string"}}}},
        operation_id="identity_callback",
    )
    def post(self, request: Request, provider: str) -> Response:
        verification = services.identity_callback_receive(
            provider=provider,
            timestamp=request.headers.get("X-Identity-Timestamp", ""),
            nonce=request.headers.get("X-Identity-Nonce", ""),
            signature=request.headers.get("X-Identity-Signature", ""),
            body=request.body,
        )
        return Response({"status": verification.status})
