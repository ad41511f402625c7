"""Signed URLs (P11, P12): issued after a permission check, short-lived, unforgeable."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from media import signing
from media.models import MediaFile
from media.services import media_file_delete, media_file_signed_url
from meetnow.lib.errors import ApplicationError
from tests.factories.media import photo
from tests.media.helpers import stored_bytes, upload_and_process

# Uploads are processed (and checks run) by the task they enqueue: run it in-process.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def ready(api: Any, django_capture_on_commit_callbacks: Any) -> tuple[MediaFile, dict[str, Any]]:
    return upload_and_process(api, django_capture_on_commit_callbacks, photo((400, 300)))


def _path(url: str) -> str:
    return urlsplit(url).path


def test_signed_url_serves_the_reencoded_copy_without_a_session(ready: Any) -> None:
    media_file, body = ready
    response = Client().get(_path(body["urls"]["256"]))  # no login: the URL is the capability
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.getvalue() == stored_bytes(media_file, "256")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{media_file.uuid}.jpg"'
    assert response["Cache-Control"].startswith("private, max-age=")


def test_cache_lifetime_never_outlasts_the_link(ready: Any, monkeypatch: Any) -> None:
    """300 s link, fetched half a second after it was minted: a cache may keep it 299 s."""
    _media_file, body = ready
    path = _path(body["urls"]["256"])
    grant = signing.verify(path.rsplit("/", 1)[1])
    import media.views

    clock = SimpleNamespace(time=lambda: grant.expires_at - 299.5)
    monkeypatch.setattr(media.views, "time", clock)
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=299"


def test_x_accel_redirect_hands_the_file_to_nginx(ready: Any, settings: Any) -> None:
    settings.MEETNOW_MEDIA_ACCEL_REDIRECT_PREFIX = "/_protected/"
    media_file, body = ready
    response = Client().get(_path(body["urls"]["original"]))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_protected/" + media_file.variants["original"]["key"]
    assert response.content == b""


def test_tampered_urls_are_refused(
    ready: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, body = ready
    other_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    token = _path(body["urls"]["256"]).rsplit("/", 1)[1]
    payload, signature = token.rsplit(":", 1)
    client = Client()

    # Same signature, another file's id, another variant, a later expiry: all refused.
    grant = signing.verify(token)
    forged = [
        signing.sign(media_uuid=other_file.uuid, variant="256", ttl=300).rsplit(":", 1)[0],
        signing.sign(media_uuid=media_file.uuid, variant="original", ttl=300).rsplit(":", 1)[0],
        signing.sign(media_uuid=media_file.uuid, variant="256", ttl=99999).rsplit(":", 1)[0],
    ]
    assert grant.media_uuid == media_file.uuid
    for other_payload in forged:
        response = client.get(f"/api/v1/media/download/{other_payload}:{signature}")
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "invalid_signature"
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (f"{payload}:{flipped}", payload, "nonsense", f"{token}x"):
        response = client.get(f"/api/v1/media/download/{bad}")
        assert response.status_code == 403, bad
    # A token signed with another key (another deployment) is refused too.
    with pytest.MonkeyPatch.context() as patch:
        from django.conf import settings

        patch.setattr(settings, "SECRET_KEY", "another-key-" + "x" * 50)
        foreign = signing.sign(media_uuid=media_file.uuid, variant="256", ttl=300)
    assert client.get(f"/api/v1/media/download/{foreign}").status_code == 403


def test_expired_url_is_refused(ready: Any) -> None:
    media_file, _body = ready
    url = media_file_signed_url(media_file=media_file, variant="256", ttl=1)
    assert Client().get(url).status_code == 200
    time.sleep(2.1)
    response = Client().get(url)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "url_expired"


def test_ttl_is_capped_and_defaults_short(ready: Any, settings: Any) -> None:
    media_file, _body = ready
    token = media_file_signed_url(media_file=media_file).rsplit("/", 1)[1]
    remaining = signing.verify(token).expires_at - time.time()
    assert settings.MEETNOW_MEDIA_URL_TTL - 5 < remaining <= settings.MEETNOW_MEDIA_URL_TTL + 1
    long = media_file_signed_url(media_file=media_file, ttl=10**9).rsplit("/", 1)[1]
    assert signing.verify(long).expires_at - time.time() <= 7 * 24 * 3600 + 1


def test_url_stops_working_once_the_file_is_deleted(
    ready: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, body = ready
    with django_capture_on_commit_callbacks(execute=True):
        media_file_delete(media_file=media_file)
    response = Client().get(_path(body["urls"]["original"]))
    assert response.status_code == 404


def test_nothing_is_signed_for_a_file_that_is_not_ready(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rejected, _ = upload_and_process(
        api, django_capture_on_commit_callbacks, photo((64, 64)) + b"<script>"
    )
    with pytest.raises(ApplicationError) as excinfo:
        media_file_signed_url(media_file=rejected)
    assert excinfo.value.code == "media_not_ready"
    # And a valid signature for it (minted by hand) serves nothing.
    token = signing.sign(media_uuid=rejected.uuid, variant="original", ttl=60)
    assert Client().get(f"/api/v1/media/download/{token}").status_code == 404


def test_unknown_variant_is_refused(ready: Any) -> None:
    media_file, _ = ready
    with pytest.raises(ApplicationError) as excinfo:
        media_file_signed_url(media_file=media_file, variant="4096")
    assert excinfo.value.code == "variant_not_found"
