"""HTTP interface of media: upload, the uploader's view of a file, signed downloads."""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from media import signing
from media.models import MediaFile, Purpose, Status
from media.payloads import media_file_payload
from media.selectors import media_file_access, media_file_get
from media.services import (
    max_upload_bytes,
    media_file_delete_unattached,
    media_file_upload,
)
from meetnow.lib.errors import ApplicationError, json_error
from meetnow.lib.throttling import (
    OneRoundTripThrottlesMixin,
    ScopedRateThrottle,
    UserRateThrottle,
)


class MediaFileOutputSerializer(serializers.Serializer[MediaFile]):
    """The schema of ``media/payloads.py`` ``media_file_payload``."""

    class Meta:
        ref_name = "MediaFile"

    uuid = serializers.UUIDField()
    purpose = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    reject_reason = serializers.CharField(allow_null=True, read_only=True)
    size = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    urls = serializers.DictField(child=serializers.CharField(), allow_null=True, read_only=True)


class MediaUploadApi(OneRoundTripThrottlesMixin, APIView):
    """``POST /api/v1/media``: multipart ``file`` + ``purpose``; answers 201 ``pending``."""

    parser_classes = [MultiPartParser]
    throttle_classes = [UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "media_upload"

    class InputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "MediaUpload"

        purpose = serializers.ChoiceField(choices=Purpose.choices)
        file = serializers.FileField(allow_empty_file=True, use_url=False)

    @extend_schema(request=InputSerializer, responses={201: MediaFileOutputSerializer})
    def post(self, request: Request) -> Response:
        # Refuse an oversized body before reading it (nginx should refuse it first).
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_upload_bytes() + 64 * 1024:
            raise ApplicationError(
                "file_too_large", _("The file is too large."), param="file", status_code=413
            )
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        media_file = media_file_upload(
            owner=request.user,
            purpose=serializer.validated_data["purpose"],
            upload=serializer.validated_data["file"],
        )
        return Response(
            media_file_payload(media_file, request=request), status=status.HTTP_201_CREATED
        )


class MediaDetailApi(APIView):
    """``GET /api/v1/media/{uuid}``: the uploader's own file, with signed URLs when ready."""

    @extend_schema(responses={200: MediaFileOutputSerializer})
    def get(self, request: Request, media_uuid: uuid.UUID) -> Response:
        media_file = media_file_access(user=request.user, media_uuid=media_uuid)
        return Response(media_file_payload(media_file, request=request))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, media_uuid: uuid.UUID) -> Response:
        """The uploader deletes a file not (yet) used anywhere; 409 once attached."""
        media_file = media_file_access(user=request.user, media_uuid=media_uuid)
        media_file_delete_unattached(media_file=media_file)
        return Response(status=status.HTTP_204_NO_CONTENT)


@require_safe
def media_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """Serve one copy of a file to whoever holds a valid signed token (local storage).

    No session needed: the token is the capability, minted after a permission check
    by ``media_file_signed_url``. With ``MEETNOW_MEDIA_ACCEL_REDIRECT_PREFIX`` set,
    nginx sends the bytes (``X-Accel-Redirect`` to an ``internal`` location).
    """
    try:
        grant = signing.verify(token)
    except signing.ExpiredToken:
        return json_error(403, "url_expired", _("This link has expired."))
    except signing.InvalidToken:
        return json_error(403, "invalid_signature", _("This link is not valid."))
    media_file = media_file_get(media_uuid=grant.media_uuid)
    entry = (
        media_file.variants.get(grant.variant)
        if media_file is not None and media_file.status == Status.READY
        else None
    )
    if media_file is None or entry is None:
        return json_error(404, "not_found", _("Not found."))
    extension = entry["key"].rsplit(".", 1)[-1]
    # Whole seconds left, rounded down: a cache never keeps the file past the link's expiry.
    remaining = max(0, math.floor(grant.expires_at - time.time()))
    headers = {
        "Content-Disposition": f'inline; filename="{media_file.uuid}.{extension}"',
        "Cache-Control": f"private, max-age={remaining}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cross-Origin-Resource-Policy": "same-site",
    }
    prefix = settings.MEETNOW_MEDIA_ACCEL_REDIRECT_PREFIX
    if prefix:
        response = HttpResponse(content_type=entry["content_type"], headers=headers)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + entry["key"]
        return response
    try:
        handle = default_storage.open(entry["key"], "rb")
    except FileNotFoundError:
        return json_error(404, "not_found", _("Not found."))
    filename = f"{media_file.uuid}.{extension}"
    del headers["Content-Disposition"]  # FileResponse writes it from ``filename``
    return FileResponse(
        handle, content_type=entry["content_type"], filename=filename, headers=headers
    )
