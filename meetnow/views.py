"""Project-level HTTP endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from meetnow.lib.health import health_report


class HealthApi(APIView):
    """Liveness and readiness for load balancers: 200 when every service answers, else 503."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        operation_id="healthz",
        responses={
            (200, "application/json"): inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(child=serializers.BooleanField()),
                },
            ),
            (503, "application/json"): inline_serializer(
                "HealthDown",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(child=serializers.BooleanField()),
                },
            ),
        },
    )
    def get(self, request: Request) -> Response:
        checks = health_report()
        healthy = all(checks.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status=200 if healthy else 503,
        )
