"""Privacy API (under /api/v1/): the documents a person must accept to sign up."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from meetnow.lib.i18n import language_current
from meetnow.lib.timestamps import iso
from privacy.selectors import documents_current


class PolicyCurrentApi(APIView):
    """The current privacy policy and user agreement; sign-up sends back their versions (P1)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "PolicyDocument"

        kind = serializers.CharField()
        version = serializers.CharField()
        language = serializers.ChoiceField(choices=["en", "zh-hans"])
        title = serializers.CharField()
        body = serializers.CharField()
        published_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="policies_current")
    def get(self, request: Request) -> Response:
        """Each text in the request's language where the version has it (issue 17)."""
        reader = language_current()
        documents = sorted(documents_current().values(), key=lambda d: d.kind)
        rows = []
        for document in documents:
            language, title, body = document.text_in(reader)
            rows.append(
                {
                    "kind": document.kind,
                    "version": document.version,
                    "language": language,
                    "title": title,
                    "body": body,
                    "published_at": iso(document.published_at),
                }
            )
        return Response(rows)
