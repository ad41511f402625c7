"""Profile photo and voice intro: the user's own uploads, shown with signed URLs (P4, P11)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from media.models import MediaFile
from tests.factories.accounts import BlockFactory, UserFactory
from tests.factories.media import photo
from tests.helpers import api_client_for
from tests.media.helpers import post_upload, upload_and_process

pytestmark = pytest.mark.django_db


def _fetch(url: str) -> bytes:
    response = Client().get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert response.status_code == 200
    if response.streaming:
        return b"".join(getattr(response, "streaming_content", []))
    return bytes(response.content)


def test_avatar_is_set_shown_to_others_with_working_urls_and_replaced(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    me, viewer = UserFactory.create(), UserFactory.create()
    api = api_client_for(me)
    avatar, _ = upload_and_process(
        api, django_capture_on_commit_callbacks, photo((800, 600)), purpose="avatar"
    )

    response = api.patch("/api/v1/me", {"avatar": str(avatar.uuid)}, format="json")
    assert response.status_code == 200, response.json()
    mine = response.json()["avatar"]
    assert mine["id"] == str(avatar.uuid)
    assert mine["status"] == "ready"
    assert set(mine["urls"]) >= {"original", "256"}

    public = api_client_for(viewer).get(f"/api/v1/users/{me.uuid}").json()
    assert public["avatar"]["id"] == str(avatar.uuid)
    assert _fetch(public["avatar"]["urls"]["256"])[:2] == b"\xff\xd8"  # a JPEG
    avatar.refresh_from_db()
    assert avatar.attached_at is not None

    newer, _ = upload_and_process(
        api, django_capture_on_commit_callbacks, photo((400, 400)), purpose="avatar"
    )
    assert api.patch("/api/v1/me", {"avatar": str(newer.uuid)}, format="json").status_code == 200
    avatar.refresh_from_db()
    assert avatar.attached_at is None  # the old one is left for the sweep

    cleared = api.patch("/api/v1/me", {"avatar": None}, format="json")
    assert cleared.json()["avatar"] is None
    assert api_client_for(viewer).get(f"/api/v1/users/{me.uuid}").json()["avatar"] is None


def test_someone_elses_or_wrong_purpose_upload_is_refused(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    me, other = UserFactory.create(), UserFactory.create()
    theirs, _ = upload_and_process(
        api_client_for(other), django_capture_on_commit_callbacks, photo(), purpose="avatar"
    )
    chat_photo, _ = upload_and_process(
        api_client_for(me), django_capture_on_commit_callbacks, photo(), purpose="chat"
    )
    api = api_client_for(me)
    for media_id in (theirs.uuid, chat_photo.uuid, "not-a-uuid"):
        response = api.patch("/api/v1/me", {"avatar": str(media_id)}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["param"] == "avatar"
    me.refresh_from_db()
    assert me.avatar_id is None


def test_pending_voice_intro_shows_to_its_owner_only() -> None:
    me, viewer = UserFactory.create(), UserFactory.create()
    api = api_client_for(me)
    # Not processed yet: nothing ran the queued task.
    upload = post_upload(
        api,
        b"#!AMR\n" + b"\x3c" + b"\x00" * 31,
        purpose="voice_intro",
        name="v.amr",
        content_type="audio/amr",
    )
    assert upload.status_code == 201, upload.json()
    media_id = upload.json()["uuid"]
    response = api.patch("/api/v1/me", {"voice_intro": media_id}, format="json")
    assert response.status_code == 200
    assert response.json()["voice_intro"]["status"] == "pending"
    assert response.json()["voice_intro"]["urls"] == {}
    public = api_client_for(viewer).get(f"/api/v1/users/{me.uuid}").json()
    assert public["voice_intro"] is None


def test_blocked_viewer_gets_no_profile_media(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    me, viewer = UserFactory.create(), UserFactory.create()
    api = api_client_for(me)
    avatar, _ = upload_and_process(
        api, django_capture_on_commit_callbacks, photo(), purpose="avatar"
    )
    api.patch("/api/v1/me", {"avatar": str(avatar.uuid)}, format="json")
    BlockFactory.create(blocker=me, blocked=viewer)
    assert api_client_for(viewer).get(f"/api/v1/users/{me.uuid}").status_code == 404


def test_discover_with_avatars_keeps_a_fixed_query_count(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    viewer = UserFactory.create()
    client = api_client_for(viewer)
    counts = []
    for _ in range(2):
        user = UserFactory.create()
        owner_api = api_client_for(user)
        avatar, _ = upload_and_process(
            owner_api, django_capture_on_commit_callbacks, photo((64, 64)), purpose="avatar"
        )
        owner_api.patch("/api/v1/me", {"avatar": str(avatar.uuid)}, format="json")
        with CaptureQueriesContext(connection) as ctx:
            body = client.get("/api/v1/discover?limit=10").json()
        assert all(item["avatar"] for item in body["results"])
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    assert MediaFile.objects.count() == 2
