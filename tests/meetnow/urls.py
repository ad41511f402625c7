"""Test-only routes that exercise the shared API plumbing (not served by the app)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from meetnow.lib.errors import ApplicationError


class _Once(AnonRateThrottle):
    rate = "1/min"
    scope = "test-once"


class EchoApi(APIView):
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer[Any]):
        name = serializers.CharField(max_length=5)
        tags = serializers.ListField(child=serializers.IntegerField(), required=False)

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["name"] == "taken":
            raise ApplicationError("name_taken", "That name is taken.", param="name")
        return Response(data.validated_data, status=201)


class OnceApi(APIView):
    permission_classes = (AllowAny,)
    throttle_classes = (_Once,)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class PrivateApi(APIView):
    def get(self, request: Request) -> Response:
        return Response({"user": str(getattr(request.user, "uuid", ""))})


class BoomApi(APIView):
    permission_classes = (AllowAny,)

    def get(self, request: Request, secret: str) -> Response:
        raise RuntimeError("boom")


def plain_form(request: HttpRequest) -> JsonResponse:
    """A plain Django view (not DRF's, so not exempt from CSRF) under the API's prefix."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("api/v1/test-plain-form", plain_form),
    path("boom/<str:secret>", BoomApi.as_view()),
    path("echo", EchoApi.as_view()),
    path("once", OnceApi.as_view()),
    path("private", PrivateApi.as_view()),
    path("", include("meetnow.urls")),
]
