"""Export download and erasure on the S3 backend, end to end against moto's S3 server
on 127.0.0.1 (row 13 of docs/privacy.md's settings; P13): the archive is served by a
signed S3 link, and an erased user's objects are gone from the bucket."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import httpx
import pytest
from django.conf import LazySettings
from django.utils import timezone
from rest_framework.test import APIClient

from privacy.lifecycle import erasures_start_due, request_create
from privacy.models import PrivacyRequest, RequestStatus
from tests.factories.privacy import run_erasure, run_export, user_with_history
from tests.helpers import api_client_for
from tests.media.conftest import S3_BUCKET, s3_endpoint, s3_storage

pytestmark = pytest.mark.django_db

__all__ = ["s3_endpoint", "s3_storage"]  # the fixtures, shared with tests/media


def _keys(client: Any) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_export_is_downloaded_from_s3_and_erasure_empties_the_bucket(
    settings: LazySettings, s3_storage: Any, s3_endpoint: str
) -> None:
    settings.STORAGE_BACKEND = "s3"
    world = user_with_history(messages=2, files=2)
    me = world["me"]
    mine = {f"f/{f.storage_prefix}/" for f in world["files"]}
    theirs = f"f/{world['friend_file'].storage_prefix}/"
    stored = _keys(s3_storage)
    assert sum(1 for k in stored if any(k.startswith(p) for p in mine)) >= 4
    assert any(k.startswith(theirs) for k in stored)

    export = request_create(user=me, kind="access", identity_confirmed=True)
    assert run_export(export) == "done"
    export.refresh_from_db()
    assert export.status == RequestStatus.COMPLETE
    assert export.archive_key in _keys(s3_storage)
    link = api_client_for(me).get(f"/api/v1/privacy/requests/{export.uuid}").json()
    redirect = APIClient().get(link["download"]["url"])
    assert redirect.status_code == 302
    signed = redirect["Location"]
    assert signed.startswith(f"{s3_endpoint}/{S3_BUCKET}/")
    assert "X-Amz-Signature" in signed
    archive = httpx.get(signed)
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "profile.json" in names
    assert sum(1 for n in names if n.startswith("files/")) >= 2  # the originals
    # Range requests resume a download (the S3 path already can).
    part = httpx.get(signed, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == archive.content[:10]

    erasure = request_create(user=me, kind="erasure", identity_confirmed=True)
    PrivacyRequest.objects.filter(pk=erasure.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)
    )
    assert erasures_start_due() == [erasure.pk]
    assert run_erasure(erasure) == "done"
    left = _keys(s3_storage)
    assert [k for k in left if any(k.startswith(p) for p in mine)] == []
    assert export.archive_key not in left  # the export archive went too
    assert not [k for k in left if k.startswith(f"privacy-exports/{export.uuid}")]
    assert any(k.startswith(theirs) for k in left)  # the friend's file stays
    assert httpx.get(signed).status_code in {403, 404}
