"""Moderators' media list: signed previews, masked owners, take-down."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from media.models import MediaFile, Status
from tests.factories.media import photo
from tests.media.helpers import stored_keys, upload_and_process

# Uploads are processed (and checks run) by the task they enqueue: run it in-process.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

CHANGELIST = "/admin/media/mediafile/"


@pytest.fixture
def moderator(db: None) -> Any:
    staff = get_user_model().objects.create_user(
        username="mod", password="correct horse battery", is_staff=True
    )
    staff.user_permissions.add(
        Permission.objects.get(codename="view_mediafile"),
        Permission.objects.get(codename="take_down_mediafile"),
    )
    return staff


@pytest.fixture
def admin_client(moderator: Any) -> Client:
    client = Client()
    client.force_login(moderator)
    return client


def test_list_shows_signed_previews_and_masked_owners(
    admin_client: Client,
    api: Any,
    user: Any,
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(3):
        upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    with django_assert_max_num_queries(8):
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("/api/v1/media/download/") == 3  # previews through the same signing
    assert f"user …{str(user.uuid)[-6:]}" in html
    assert "Alice" not in html
    assert "8613800138000" not in html
    # Same number of queries with more rows.
    for _ in range(3):
        upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    with django_assert_max_num_queries(8):
        assert admin_client.get(CHANGELIST).status_code == 200


def test_detail_page_renders(
    admin_client: Client, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    response = admin_client.get(f"{CHANGELIST}{media_file.pk}/change/")
    assert response.status_code == 200
    assert "/api/v1/media/download/" in response.content.decode()


def test_take_down_action(
    admin_client: Client, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "take_down", "_selected_action": [media_file.pk]}
        )
    assert response.status_code == 302
    media_file.refresh_from_db()
    assert media_file.status == Status.REMOVED_BY_MODERATOR
    assert stored_keys() == []


def test_take_down_needs_its_permission(
    moderator: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    moderator.user_permissions.remove(Permission.objects.get(codename="take_down_mediafile"))
    client = Client()
    client.force_login(get_user_model().objects.get(pk=moderator.pk))
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    client.post(CHANGELIST, {"action": "take_down", "_selected_action": [media_file.pk]})
    assert MediaFile.objects.get(pk=media_file.pk).status == Status.READY
