"""Export downloads resume (P13): HTTP Range on the local-storage download (RFC 9110)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from meetnow.lib.ranges import ByteRange, RangeNotSatisfiable, range_parse
from privacy.lifecycle import request_create
from privacy.models import RequestStatus
from tests.factories.privacy import run_export, user_with_history
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def _download_url() -> tuple[str, bytes]:
    world = user_with_history(messages=2, files=0)
    me = world["me"]
    privacy_request = request_create(user=me, kind="access", identity_confirmed=True)
    run_export(privacy_request)
    privacy_request.refresh_from_db()
    assert privacy_request.status == RequestStatus.COMPLETE
    detail = api_client_for(me).get(f"/api/v1/privacy/requests/{privacy_request.uuid}").json()
    with default_storage.open(privacy_request.archive_key, "rb") as handle:
        whole = handle.read()
    return detail["download"]["url"], whole


def _body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_a_broken_off_download_resumes_with_range() -> None:
    url, whole = _download_url()
    size = len(whole)
    client = APIClient()

    full = client.get(url)
    assert full.status_code == 200
    assert full["Accept-Ranges"] == "bytes"
    assert full["Content-Length"] == str(size)
    etag = full["ETag"]

    # The first 100 bytes arrived; the rest is asked for from there.
    head = client.get(url, HTTP_RANGE="bytes=0-99")
    assert head.status_code == 206
    assert head["Content-Range"] == f"bytes 0-99/{size}"
    assert head["Content-Length"] == "100"
    assert "attachment" in head["Content-Disposition"]
    tail = client.get(url, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert tail.status_code == 206
    assert tail["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    resumed = _body(head) + _body(tail)
    assert resumed == whole
    assert zipfile.ZipFile(io.BytesIO(resumed)).read("profile.json")

    # The last 10 bytes (suffix range); an end past the file is cut at the end.
    assert _body(client.get(url, HTTP_RANGE="bytes=-10")) == whole[-10:]
    last = client.get(url, HTTP_RANGE=f"bytes={size - 5}-{size + 500}")
    assert last.status_code == 206
    assert _body(last) == whole[-5:]

    # Another version of the file (If-Range does not match): the whole file again.
    stale = client.get(url, HTTP_RANGE="bytes=100-", HTTP_IF_RANGE='"something-else"')
    assert stale.status_code == 200
    assert _body(stale) == whole


def test_unsatisfiable_range_is_416_and_several_ranges_get_the_whole_file() -> None:
    url, whole = _download_url()
    size = len(whole)
    client = APIClient()

    past = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert past.status_code == 416
    assert past["Content-Range"] == f"bytes */{size}"
    assert past.json()["errors"][0]["code"] == "range_not_satisfiable"

    several = client.get(url, HTTP_RANGE="bytes=0-9,20-29")
    assert several.status_code == 200
    assert _body(several) == whole
    for ignored in ("bytes=9-2", "items=0-9", "bytes=abc", "bytes=-"):
        response = client.get(url, HTTP_RANGE=ignored)
        assert response.status_code == 200, ignored
        assert _body(response) == whole


def test_range_parse_rules() -> None:
    assert range_parse(None, 10) is None
    assert range_parse("bytes=2-4", 10) == ByteRange(2, 4)
    assert range_parse("bytes=2-", 10) == ByteRange(2, 9)
    assert range_parse("bytes=-3", 10) == ByteRange(7, 9)
    assert range_parse("bytes=-30", 10) == ByteRange(0, 9)
    assert range_parse("bytes=0-0,5-6", 10) is None
    for unsatisfiable in ("bytes=10-", "bytes=10-20", "bytes=-0"):
        with pytest.raises(RangeNotSatisfiable):
            range_parse(unsatisfiable, 10)
