"""P4: a user who fills in nothing optional (no nickname, gender, bio, avatar, voice
intro) can use every function of the app."""

from __future__ import annotations

import uuid

import pytest
from pytest_django import DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient

from accounts.models import User
from accounts.sms import backends
from chat import calls
from tests.accounts.conftest import App
from tests.factories.chat import make_user
from tests.factories.media import photo
from tests.helpers import session_token_for
from tests.media.helpers import upload_and_process

pytestmark = pytest.mark.django_db


def test_a_user_with_an_empty_profile_can_use_every_function(
    app: App,
    outbox: list[backends.OutgoingMessage],
    signup_data: dict[str, str],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    # Sign-up asks only for the number, date of birth and consent.
    status, _ = app.call("POST", "/auth/signup", {"phone": "+8613800138000", **signup_data})
    assert status == 401
    assert app.call("POST", "/auth/phone/verify", {"code": outbox[-1].code})[0] == 200
    me = User.objects.get(phone="+8613800138000")
    assert (me.nickname, me.gender, me.bio, me.avatar_id, me.voice_intro_id) == (
        "",
        "",
        "",
        None,
        None,
    )
    api = APIClient()
    api.credentials(HTTP_X_SESSION_TOKEN=app.token)
    friend = make_user("friend")

    profile = api.get("/api/v1/me")
    assert profile.status_code == 200
    assert profile.json()["nickname"] == ""
    assert api.get("/api/v1/discover").status_code == 200
    seen = APIClient()
    seen.credentials(HTTP_X_SESSION_TOKEN=session_token_for(friend))
    assert seen.get(f"/api/v1/users/{me.uuid}").status_code == 200

    conversation = api.post("/api/v1/conversations", {"user": str(friend.uuid)}, format="json")
    assert conversation.status_code in (200, 201), conversation.json()
    messages = f"/api/v1/conversations/{conversation.json()['uuid']}/messages"
    text = api.post(messages, {"client_id": str(uuid.uuid4()), "text": "hi"}, format="json")
    assert text.status_code == 201, text.json()
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo())
    image = api.post(
        messages,
        {"client_id": str(uuid.uuid4()), "kind": "image", "media": str(media_file.uuid)},
        format="json",
    )
    assert image.status_code == 201, image.json()
    assert seen.get(messages).status_code == 200

    call = calls.call_invite(
        caller=me,
        conversation_uuid=uuid.UUID(conversation.json()["uuid"]),
        media="audio",
        offer={"type": "offer", "sdp": "v=0"},
    )
    assert seen.post(f"/api/v1/calls/{call.uuid}/accept", {}, format="json").status_code == 200

    device = api.post("/api/v1/devices", {"device_id": "d-1", "platform": "ios"}, format="json")
    assert device.status_code in (200, 201), device.json()
    ticket = api.post("/api/v1/support/tickets", {"text": "a question"}, format="json")
    assert ticket.status_code == 201, ticket.json()
    report = api.post(
        "/api/v1/reports", {"user": str(friend.uuid), "reason": "spam"}, format="json"
    )
    assert report.status_code == 201, report.json()
    export = api.post("/api/v1/privacy/requests", {"kind": "access"}, format="json")
    assert export.status_code == 201, export.json()
