"""The upload request: cheap checks only, one error shape, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from media.models import MediaFile
from tests.conftest import SentTasks
from tests.factories.media import photo
from tests.media.helpers import post_upload, stored_keys

pytestmark = pytest.mark.django_db


def _error(response: Any) -> tuple[int, str, str | None]:
    body = response.json()
    assert body["status"] == response.status_code
    error = body["errors"][0]
    return response.status_code, error["code"], error.get("param")


def test_upload_answers_pending_and_queues_processing_after_commit(
    api: Any, django_capture_on_commit_callbacks: Any, celery_sent: SentTasks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_upload(api, photo(), name="Alice at home +8613800138000.jpg")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["urls"] is None
    assert body["purpose"] == "chat"
    assert celery_sent == []  # nothing is enqueued before the commit
    for callback in callbacks:
        callback()
    media_file = MediaFile.objects.get(uuid=body["uuid"])
    # Processing is queued once, not done in the request.
    assert [(t.name, t.args) for t in celery_sent] == [("media.process", (media_file.pk,))]
    media_file.refresh_from_db()
    assert media_file.status == "pending"
    # The storage key carries no user data: not the name, not the phone, not the user id.
    [key] = stored_keys()
    assert key == f"f/{media_file.storage_prefix}/upload"
    for leak in ("Alice", "8613800138000", "home", str(media_file.owner_id)):
        assert leak not in key.split("/", 1)[1].replace(media_file.storage_prefix, "")


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        pytest.param(
            b"<!doctype html><html><script>alert(1)</script></html>",
            "cat.jpg",
            (400, "unsupported_type", "file"),
            id="html-renamed-jpg",
        ),
        pytest.param(b"", "empty.jpg", (400, "empty_file", "file"), id="zero-byte"),
        pytest.param(
            b"II*\x00" + b"\x00" * 200, "scan.tiff", (400, "unsupported_type", "file"), id="tiff"
        ),
        pytest.param(b"%PDF-1.7\n" + b"0" * 100, "doc.jpg", (400, "unsupported_type", "file")),
    ],
)
def test_unaccepted_files_are_refused_and_not_stored(
    api: Any, content: bytes, name: str, expected: tuple[int, str, str]
) -> None:
    response = post_upload(api, content, name=name)
    assert _error(response) == expected
    assert MediaFile.objects.count() == 0
    assert stored_keys() == []


def test_purpose_must_be_known(api: Any) -> None:
    response = post_upload(api, photo(), purpose="wallpaper")
    assert _error(response)[:2] == (400, "invalid_choice")


def test_missing_file_is_a_400(api: Any) -> None:
    response = api.post("/api/v1/media", {"purpose": "chat"}, format="multipart")
    assert _error(response) == (400, "required", "file")


def test_json_body_is_refused_cleanly(api: Any) -> None:
    response = api.post("/api/v1/media", {"purpose": "chat"}, format="json")
    assert _error(response)[:2] == (415, "unsupported_media_type")


def test_photo_over_the_size_limit_is_refused(api: Any, settings: Any) -> None:
    settings.MEETNOW_MEDIA_IMAGE_MAX_BYTES = 10_000
    response = post_upload(api, photo((800, 600)))
    assert _error(response) == (413, "file_too_large", "file")
    assert stored_keys() == []


def test_body_larger_than_any_limit_is_refused_before_parsing(api: Any) -> None:
    response = api.generic(
        "POST",
        "/api/v1/media",
        data=b"x" * 100,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )
    assert _error(response)[:2] == (413, "file_too_large")


def test_quota_is_enforced_per_user(api: Any, other_user: Any, settings: Any) -> None:
    image = photo((320, 240))
    settings.MEETNOW_MEDIA_QUOTA_BYTES = len(image) * 2 + 10
    assert post_upload(api, image).status_code == 201
    assert post_upload(api, image).status_code == 201
    assert _error(post_upload(api, image)) == (403, "quota_exceeded", "file")
    other = APIClient()
    other.force_authenticate(other_user)
    assert post_upload(other, image).status_code == 201  # someone else's quota is theirs


def test_uploads_are_throttled_per_user(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # DRF binds the rates to the throttle class at import; the scope comes from settings.
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "media_upload": "2/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    image = photo((64, 64))
    assert post_upload(api, image).status_code == 201
    assert post_upload(api, image).status_code == 201
    assert _error(post_upload(api, image))[:2] == (429, "rate_limited")


def test_anonymous_upload_is_refused(db: None) -> None:
    response = post_upload(APIClient(), photo())
    assert _error(response)[:2] == (401, "not_authenticated")


def test_someone_elses_file_is_not_found(
    api: Any, other_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        media_uuid = post_upload(api, photo()).json()["uuid"]
    other = APIClient()
    other.force_authenticate(other_user)
    response = other.get(f"/api/v1/media/{media_uuid}")
    assert _error(response)[:2] == (404, "not_found")
    assert "urls" not in response.json()
    assert api.get("/api/v1/media/not-a-uuid").status_code == 404


def test_uploader_can_delete_an_unattached_file(
    api: Any, user: Any, other_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from media.services import media_file_attach

    with django_capture_on_commit_callbacks(execute=True):
        first = post_upload(api, photo((64, 64))).json()["uuid"]
        second = post_upload(api, photo((64, 64))).json()["uuid"]
    other = APIClient()
    other.force_authenticate(other_user)
    assert _error(other.delete(f"/api/v1/media/{first}"))[:2] == (404, "not_found")

    media_file_attach(owner=user, media_uuid=second, purposes=("chat",))
    assert _error(api.delete(f"/api/v1/media/{second}"))[:2] == (409, "media_in_use")

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/media/{first}").status_code == 204
    assert api.get(f"/api/v1/media/{first}").status_code == 404
    remaining = {key.split("/")[1] for key in stored_keys()}
    assert remaining == {MediaFile.objects.get(uuid=second).storage_prefix}
