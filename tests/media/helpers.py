"""Shared steps of the media tests (uploading through the API, reading storage)."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from media.models import MediaFile


def post_upload(
    api: APIClient,
    content: bytes,
    *,
    purpose: str = "chat",
    name: str = "IMG_0001.jpg",
    content_type: str = "image/jpeg",
) -> Any:
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return api.post("/api/v1/media", {"purpose": purpose, "file": upload}, format="multipart")


def upload_and_process(
    api: APIClient, capture: Any, content: bytes, **kwargs: Any
) -> tuple[MediaFile, dict[str, Any]]:
    """Upload through the API, run what was queued on commit, return (row, GET body)."""
    with capture(execute=True):
        response = post_upload(api, content, **kwargs)
    assert response.status_code == 201, response.json()
    media_uuid = response.json()["uuid"]
    detail = api.get(f"/api/v1/media/{media_uuid}")
    assert detail.status_code == 200
    return MediaFile.objects.get(uuid=media_uuid), detail.json()


def stored_keys(prefix: str = "f") -> list[str]:
    """Every object under ``prefix`` in the default storage, recursively."""
    try:
        dirs, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return []
    keys = [f"{prefix}/{name}" for name in files]
    for directory in dirs:
        keys += stored_keys(f"{prefix}/{directory}")
    return keys


def stored_bytes(media_file: MediaFile, variant: str) -> bytes:
    with default_storage.open(media_file.variants[variant]["key"], "rb") as handle:
        return bytes(handle.read())
