"""S3 mode end to end against a real S3-compatible server (moto) on 127.0.0.1.

The same code paths as production: django-storages' S3Storage with SigV4, private
ACL and file_overwrite=False. moto checks neither signatures nor expiry
(research/media.md), so those are asserted on the URL itself; unsigned access is
refused by the server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from media.services import (
    media_file_delete,
    media_file_signed_url,
    media_file_take_down,
    media_sweep_orphans,
)
from tests.factories.media import MAKE_MARKER, jpeg_segments, photo
from tests.media.conftest import S3_BUCKET
from tests.media.helpers import upload_and_process

# Uploads are processed (and checks run) by the task they enqueue: run it in-process.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def _objects(client: Any) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=S3_BUCKET).get("Contents", [])]


def test_upload_process_sign_fetch_delete_on_s3(
    s3_storage: Any, api: Any, django_capture_on_commit_callbacks: Any, s3_endpoint: str
) -> None:
    media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, photo(gps=True, comment=True)
    )
    assert body["status"] == "ready"
    keys = sorted(_objects(s3_storage))
    assert keys == sorted(v["key"] for v in media_file.variants.values())
    assert all(key.startswith(f"f/{media_file.storage_prefix}/") for key in keys)

    url = body["urls"]["original"]
    assert url.startswith(s3_endpoint)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert query["response-content-disposition"] == [f'inline; filename="{media_file.uuid}.jpg"']
    assert query["response-content-type"] == ["image/jpeg"]
    # A cache may keep the file until the URL dies, not a second longer (no max-age,
    # which would count from the response, after the signing).
    assert query["response-cache-control"] == ["private"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    url_expiry = signed_at + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    assert parsedate_to_datetime(query["response-expires"][0]) <= url_expiry

    fetched = httpx.get(url)
    assert fetched.status_code == 200
    assert fetched.headers["content-disposition"].startswith("inline")
    assert fetched.headers["cache-control"] == "private"
    assert parsedate_to_datetime(fetched.headers["expires"]) <= url_expiry
    assert 0xE1 not in jpeg_segments(fetched.content)
    assert MAKE_MARKER.encode() not in fetched.content

    # Private objects: without the signature the server refuses.
    unsigned = f"{s3_endpoint}/{S3_BUCKET}/{media_file.variants['original']['key']}"
    assert httpx.get(unsigned).status_code == 403

    long = media_file_signed_url(media_file=media_file, variant="256", ttl=6 * 3600)
    assert parse_qs(urlsplit(long).query)["X-Amz-Expires"] == [str(6 * 3600)]

    with django_capture_on_commit_callbacks(execute=True):
        media_file_delete(media_file=media_file)
    assert _objects(s3_storage) == []
    assert httpx.get(url).status_code in {403, 404}  # S3 answers 403 for a missing key


def test_rejected_upload_leaves_nothing_on_s3(
    s3_storage: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, photo((100, 100))[:-500]
    )
    assert (body["status"], body["reject_reason"]) == ("rejected", "undecodable")
    assert _objects(s3_storage) == []


def test_take_down_and_orphan_sweep_on_s3(
    s3_storage: Any, api: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    kept, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    s3_storage.put_object(Bucket=S3_BUCKET, Key="f/0123abcd/original.jpg", Body=b"orphan")
    with django_capture_on_commit_callbacks(execute=True):
        media_file_take_down(media_file=media_file, moderator=user)
    assert media_sweep_orphans(now=timezone.now() + timedelta(hours=2)) == 1
    assert {key.split("/")[1] for key in _objects(s3_storage)} == {kept.storage_prefix}
