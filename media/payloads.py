"""Response bodies of media's API (docs/architecture.md, "Output shape")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request

from media.models import MediaFile, Status
from media.services import media_file_signed_urls
from meetnow.lib.timestamps import iso


def media_file_payload(media_file: MediaFile, *, request: HttpRequest | Request) -> dict[str, Any]:
    """The uploader's own file; absolute signed URLs once it is ready."""
    urls: dict[str, str] | None = None
    if media_file.status == Status.READY:
        urls = {
            name: request.build_absolute_uri(url)
            for name, url in media_file_signed_urls(media_file=media_file).items()
        }
    return {
        "uuid": str(media_file.uuid),
        "purpose": media_file.purpose,
        "kind": media_file.kind,
        "status": media_file.status,
        "reject_reason": media_file.reject_reason or None,
        "size": media_file.size,
        "width": media_file.width,
        "height": media_file.height,
        "duration_ms": media_file.duration_ms,
        "created_at": iso(media_file.created_at),
        "urls": urls,
    }
