"""Photo, voice and video messages: owned, processed, right kind; signed URLs for members."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pytest_django import DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient

from accounts.models import User
from chat import services
from chat.models import Conversation, Report
from media.models import MediaFile
from tests.factories.chat import make_direct
from tests.factories.media import photo
from tests.media.helpers import upload_and_process

pytestmark = pytest.mark.django_db


def _ready_file(
    owner: User, *, kind: str, duration_ms: int | None = None, status: str = "ready"
) -> MediaFile:
    ext = {"image": "jpg", "audio": "m4a", "video": "mp4"}[kind]
    return MediaFile.objects.create(
        owner=owner,
        purpose="chat",
        kind=kind,
        status=status,
        sniffed_type=f"{kind}/x",
        size=10,
        duration_ms=duration_ms,
        variants=(
            {"original": {"key": f"f/x{uuid.uuid4().hex}/o.{ext}", "content_type": "x", "size": 1}}
            if status == "ready"
            else {}
        ),
    )


def _send(api: APIClient, conversation: Conversation, **body: Any) -> Any:
    return api.post(
        f"/api/v1/conversations/{conversation.uuid}/messages",
        {"client_id": str(uuid.uuid4()), **body},
        format="json",
    )


def test_photo_message_end_to_end_members_get_signed_urls(
    alice: User,
    bob: User,
    carol: User,
    alice_api: APIClient,
    bob_api: APIClient,
    carol_api: APIClient,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    conversation = make_direct(alice, bob)
    media_file, _ = upload_and_process(alice_api, django_capture_on_commit_callbacks, photo())
    response = _send(alice_api, conversation, kind="image", media=str(media_file.uuid))
    assert response.status_code == 201, response.json()

    seen = bob_api.get(f"/api/v1/conversations/{conversation.uuid}/messages").json()["results"][0]
    attachment = seen["attachment"]
    assert attachment["uuid"] == str(media_file.uuid)
    assert attachment["kind"] == "image"
    url = attachment["urls"]["original"]
    download = bob_api.get(url)
    assert download.status_code == 200
    assert download.getvalue()
    # A non-member can neither see the conversation nor fetch the file by its id.
    assert carol_api.get(f"/api/v1/conversations/{conversation.uuid}/messages").status_code == 404
    assert carol_api.get(f"/api/v1/media/{media_file.uuid}").status_code == 404


def test_voice_message_shows_its_duration(
    alice: User, bob: User, alice_api: APIClient, bob_api: APIClient
) -> None:
    conversation = make_direct(alice, bob)
    voice = _ready_file(alice, kind="audio", duration_ms=4200)
    response = _send(alice_api, conversation, kind="voice", media=str(voice.uuid))
    assert response.status_code == 201, response.json()
    latest = bob_api.get("/api/v1/conversations").json()["results"][0]["last_message"]
    assert latest["kind"] == "voice"
    assert latest["attachment"]["duration_ms"] == 4200


def test_attachment_checks_give_clear_errors(alice: User, bob: User, alice_api: APIClient) -> None:
    conversation = make_direct(alice, bob)
    image = _ready_file(alice, kind="image")
    pending = _ready_file(alice, kind="image", status="pending")
    bobs = _ready_file(bob, kind="image")
    cases = [
        ({"kind": "image"}, 400, "media_required"),
        ({"kind": "text", "text": "x", "media": str(image.uuid)}, 400, "media_not_allowed"),
        ({"kind": "voice", "media": str(image.uuid)}, 400, "media_kind_mismatch"),
        ({"kind": "image", "media": str(pending.uuid)}, 409, "media_not_ready"),
        ({"kind": "image", "media": str(bobs.uuid)}, 400, "media_not_found"),
        ({"kind": "image", "media": str(uuid.uuid4())}, 400, "media_not_found"),
        ({"kind": "image", "media": "nope"}, 400, "invalid"),
    ]
    for body, status, code in cases:
        response = _send(alice_api, conversation, **body)
        assert response.status_code == status, (body, response.json())
        assert response.json()["errors"][0]["code"] == code, body


def test_recall_removes_the_file_unless_a_report_holds_it(
    alice: User, bob: User, carol: User, bob_api: APIClient
) -> None:
    from accounts.services import staff_create

    conversation = make_direct(alice, bob)
    kept, gone = _ready_file(alice, kind="image"), _ready_file(alice, kind="image")
    reported, _ = services.message_send(
        sender=alice,
        conversation_uuid=conversation.uuid,
        client_id=uuid.uuid4(),
        kind="image",
        media=kept.uuid,
    )
    other, _ = services.message_send(
        sender=alice,
        conversation_uuid=conversation.uuid,
        client_id=uuid.uuid4(),
        kind="image",
        media=gone.uuid,
    )
    bob_api.post("/api/v1/reports", {"reason": "sexual", "message_id": reported.id})
    for message in (reported, other):
        services.message_recall(
            user=alice, conversation_uuid=conversation.uuid, message_id=message.id
        )
    assert not MediaFile.objects.filter(pk=gone.pk).exists()
    report = Report.objects.get(message=reported)
    assert report.evidence_attachment_id == kept.pk
    assert MediaFile.objects.filter(pk=kept.pk).exists()
    moderator = staff_create(username="mod", password="x-Very-long-pass-123")
    services.report_resolve(report=report, moderator=moderator, outcome="no_action")
    assert not MediaFile.objects.filter(pk=kept.pk).exists()
