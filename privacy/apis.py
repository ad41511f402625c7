"""Privacy API (under /api/v1/): the documents a person must accept to sign up."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from privacy.selectors import documents_current


class PolicyCurrentApi(APIView):
    """The current privacy policy and user agreement; sign-up sends back their versions (P1)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PolicyDocument"

        kind = serializers.CharField()
        version = serializers.CharField()
        title = serializers.CharField()
        body = serializers.CharField()
        published_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="policies_current")
    def get(self, request: Request) -> Response:
        documents = sorted(documents_current().values(), key=lambda d: d.kind)
        return Response(self.OutputSerializer(documents, many=True).data)
