"""Export (access, P13): ZIP contents, nothing of others but what the user could see,
resumable chunks, signed expiring download, expiry purge."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.conf import LazySettings
from django.core.files.storage import default_storage
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from privacy.export import export_build, export_download_token, exports_expire
from privacy.lifecycle import request_create
from privacy.models import PrivacyRequest, RequestStatus
from privacy.registry import get_registry
from tests.factories.privacy import run_export, user_with_history
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def _zip(privacy_request: PrivacyRequest) -> zipfile.ZipFile:
    with default_storage.open(privacy_request.archive_key, "rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def _export(user: User) -> PrivacyRequest:
    privacy_request = request_create(user=user, kind="access", identity_confirmed=True)
    run_export(privacy_request)
    privacy_request.refresh_from_db()
    assert privacy_request.status == RequestStatus.COMPLETE
    return privacy_request


def test_zip_holds_every_kind_and_only_what_the_user_could_see(settings: LazySettings) -> None:
    settings.MEETNOW_PRIVACY_CHUNK_SIZE = 4  # several parts per section
    world = user_with_history(messages=5, files=2)
    me = world["me"]
    archive = _zip(_export(me))
    names = set(archive.namelist())
    for section in get_registry().export_sections:
        assert section.filename in names
    assert "README.txt" in names
    readme = archive.read("README.txt").decode()
    assert "messages.json" in readme
    # Profile, devices, security, consents are mine.
    profile = json.loads(archive.read("profile.json"))
    assert profile[0]["uuid"] == str(me.uuid)
    assert profile[0]["phone"] == str(me.phone)
    devices = json.loads(archive.read("devices.json"))
    assert [d["device_id"] for d in devices] == [world["device"].device_id]
    # Messages: everything I sent, others' messages only where I could see them.
    messages = json.loads(archive.read("messages.json"))
    texts = {m["text"] for m in messages}
    assert {m.text for m in world["mine"]} <= texts
    assert {m.text for m in world["theirs"]} <= texts
    assert "group hello" in texts
    assert "not for me" not in texts  # a conversation I'm not in
    assert "hidden by me" not in texts  # deleted for myself
    assert len(messages) == len({m["id"] for m in messages})  # no duplicates across parts
    mine_senders = {m["sender"] for m in messages if m["text"].startswith("my ")}
    assert mine_senders == {"me"}
    others = {m["sender"] for m in messages} - {"me", None}  # None: system messages
    visible_people = {
        str(m.user.uuid) for c in (world["direct"], world["group"]) for m in c.memberships.all()
    }
    assert others <= visible_people
    assert str(world["stranger"].uuid) not in others
    # Nothing that identifies other people beyond ids: no phone, no nickname of theirs.
    blob = b"".join(archive.read(n) for n in names if n.endswith(".json"))
    assert str(world["friend"].phone).encode() not in blob
    assert str(world["stranger"].phone).encode() not in blob
    # Reports I made, not the one made about me.
    reports = json.loads(archive.read("reports.json"))
    assert [r["uuid"] for r in reports] == [str(world["report_made"].uuid)]
    # Files: metadata and each original, byte for byte.
    files = json.loads(archive.read("files.json"))
    assert {f["uuid"] for f in files} == {str(f.uuid) for f in world["files"]}
    for entry, media_file in zip(
        sorted(files, key=lambda f: f["uuid"]),
        sorted(world["files"], key=lambda f: str(f.uuid)),
        strict=True,
    ):
        original = media_file.variants["original"]["key"]
        with default_storage.open(original, "rb") as handle:
            assert archive.read(entry["file"]) == handle.read()
    assert str(world["friend_file"].uuid) not in " ".join(names)


def test_export_resumes_after_a_crash_without_duplicates(settings: LazySettings) -> None:
    settings.MEETNOW_PRIVACY_CHUNK_SIZE = 3
    world = user_with_history(messages=7, files=1)
    privacy_request = request_create(user=world["me"], kind="access")
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(status=RequestStatus.IN_PROCESSING)
    assert export_build(request_id=privacy_request.pk, budget=0) == "more"
    privacy_request.refresh_from_db()
    first = dict(privacy_request.cursor)
    assert 0 < privacy_request.progress < 90
    # A worker died holding the job: nobody else can take it until the lease ends.
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        lease_token="dead", lease_until=timezone.now() + dt.timedelta(minutes=1)
    )
    assert export_build(request_id=privacy_request.pk) == "skipped"
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(lease_until=timezone.now())
    assert run_export(privacy_request) == "done"
    privacy_request.refresh_from_db()
    assert privacy_request.cursor["done"] >= first["done"]
    messages = json.loads(_zip(privacy_request).read("messages.json"))
    assert len(messages) == len({m["id"] for m in messages})
    assert len([m for m in messages if m["sender"] == "me"]) == 8


def test_download_through_signed_expiring_url(settings: LazySettings) -> None:
    world = user_with_history(messages=1, files=0)
    me = world["me"]
    privacy_request = _export(me)
    client = api_client_for(me)
    detail = client.get(f"/api/v1/privacy/requests/{privacy_request.uuid}").json()
    assert detail["progress"] == 100
    url = detail["download"]["url"]
    anonymous = APIClient()
    response = anonymous.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert zipfile.ZipFile(io.BytesIO(body)).read("profile.json")
    tampered = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
    bad = anonymous.get(tampered)
    assert bad.status_code == 404
    assert bad.json()["errors"][0]["code"] == "not_found"
    # After the expiry the link is dead and the archive is deleted by the beat task.
    key = privacy_request.archive_key
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        archive_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert anonymous.get(url).status_code == 404
    assert exports_expire() == 1
    assert not default_storage.exists(key)
    assert exports_expire() == 0  # idempotent
    privacy_request.refresh_from_db()
    assert privacy_request.archive_deleted_at is not None
    token = export_download_token(privacy_request=privacy_request)
    assert anonymous.get(f"/api/v1/privacy/exports/{token}").status_code == 404


def test_another_users_token_never_unlocks_my_archive() -> None:
    world = user_with_history(messages=1, files=0)
    mine = _export(world["me"])
    client = api_client_for(world["friend"])
    assert client.get(f"/api/v1/privacy/requests/{mine.uuid}").status_code == 404


def test_parts_of_a_failed_export_are_deleted_later(settings: LazySettings) -> None:
    from privacy.transitions import request_fail

    settings.MEETNOW_PRIVACY_CHUNK_SIZE = 2
    world = user_with_history(messages=3, files=0)
    privacy_request = request_create(user=world["me"], kind="access")
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(status=RequestStatus.IN_PROCESSING)
    assert export_build(request_id=privacy_request.pk, budget=0) == "more"
    staging = f"privacy-exports/{privacy_request.uuid}/parts"
    assert default_storage.listdir(staging)[1]
    privacy_request.refresh_from_db()
    request_fail(privacy_request=privacy_request, error_code="export_failed")
    assert exports_expire() == 0  # not old enough yet
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=8)
    )
    assert exports_expire() == 1
    assert default_storage.listdir(staging)[1] == []
    assert exports_expire() == 0
