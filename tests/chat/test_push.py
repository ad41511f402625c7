"""Push (P10): exactly the offline, unmuted members with push on; FCM and APNs fakes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import LazySettings
from pytest_django import DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient

import chat.events
from accounts.models import Device, User
from chat import notify, services
from chat.models import Message
from chat.presence import BACKGROUND, presence_clear, presence_set
from chat.selectors import message_push_recipient_ids
from chat.tasks import message_push_task
from tests.chat.fakes import DEAD_TOKEN, fake_apns, fake_fcm
from tests.conftest import SentTasks
from tests.factories.chat import make_device, make_direct, make_group, make_user, send

pytestmark = pytest.mark.django_db


def test_push_task_chooses_exactly_the_offline_unmuted_members(
    alice: User, bob: User, carol: User
) -> None:
    dave, erin = make_user("dave"), make_user("erin")
    group = make_group(alice, bob, carol, dave, erin)
    presence_set(user_id=bob.pk)  # live socket, app in the foreground
    presence_set(user_id=erin.pk, state=BACKGROUND)  # socket open, app in the background
    services.conversation_mute_set(user=carol, conversation_uuid=group.uuid, muted=True)
    message = send(alice, group, "hi all")
    assert message_push_recipient_ids(message=message) == sorted([dave.pk, erin.pk])
    presence_clear(user_id=bob.pk)
    assert message_push_recipient_ids(message=message) == sorted([bob.pk, dave.pk, erin.pk])


def test_push_goes_only_to_enabled_devices_once(
    settings: LazySettings,
    alice: User,
    bob: User,
    carol: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    direct = make_direct(alice, bob)
    on = make_device(bob, platform="android")
    make_device(bob, platform="android", push_enabled=False)
    make_device(carol)  # not in the conversation
    with fake_fcm(tmp_path) as (base, credentials, recorded):
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_BASE_URL = base
        settings.FCM_CREDENTIALS_FILE = str(credentials)
        with django_capture_on_commit_callbacks(execute=True):
            message = send(alice, direct, "private words")  # eager: the task runs on commit
        assert notify.message_push_send(message_id=message.id) == 0  # a redelivery: no-op
    assert len(recorded.requests) == 1
    sent = recorded.requests[0]
    assert sent["path"] == "/v1/projects/meetnow-test/messages:send"
    msg = sent["body"]["message"]
    assert msg["token"] == on.push_token
    # Ids and counts only by default: no text, no sender name.
    assert msg["data"] == {
        "type": "message",
        "conversation": str(direct.uuid),
        "badge": "1",
        "message_id": str(message.id),
    }
    assert "notification" not in msg
    assert "private words" not in str(sent)


def test_preview_only_when_opted_in(
    settings: LazySettings,
    alice: User,
    bob: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    direct = make_direct(alice, bob)
    make_device(bob, platform="android")
    services.chat_settings_update(user=bob, push_previews=True)
    with fake_fcm(tmp_path) as (base, credentials, recorded):
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_BASE_URL = base
        settings.FCM_CREDENTIALS_FILE = str(credentials)
        with django_capture_on_commit_callbacks(execute=True):
            send(alice, direct, "see you at 8")
    assert recorded.requests[0]["body"]["message"]["notification"] == {
        "title": "alice",
        "body": "see you at 8",
    }


def test_fcm_invalid_token_is_pruned(
    settings: LazySettings,
    alice: User,
    bob: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    direct = make_direct(alice, bob)
    dead = make_device(bob, platform="android", token=DEAD_TOKEN)
    live = make_device(bob, platform="android")
    with fake_fcm(tmp_path) as (base, credentials, recorded):
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_BASE_URL = base
        settings.FCM_CREDENTIALS_FILE = str(credentials)
        with django_capture_on_commit_callbacks(execute=True):
            send(alice, direct, "x")
    assert len(recorded.requests) == 2
    assert recorded.tokens_issued == 1  # the OAuth token is reused
    assert Device.objects.get(pk=dead.pk).push_token == ""
    assert Device.objects.get(pk=live.pk).push_token == live.push_token


def _apns_settings(settings: LazySettings, base: str, key_file: Path) -> None:
    settings.PUSH_BACKEND = "native"
    settings.APNS_BASE_URL = base
    settings.APNS_KEY_FILE = str(key_file)
    settings.APNS_KEY_ID = "KEYID"
    settings.APNS_TEAM_ID = "TEAMID"
    settings.APNS_TOPIC = "com.meetnow.app"


def test_apns_over_http2_and_invalid_token_pruned(
    settings: LazySettings,
    alice: User,
    bob: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    direct = make_direct(alice, bob)
    phone = make_device(bob, platform="ios")
    dead = make_device(bob, platform="ios", token=DEAD_TOKEN)
    with fake_apns(tmp_path) as (base, key_file, recorded), fake_fcm(tmp_path) as fcm:
        _apns_settings(settings, base, key_file)
        settings.FCM_BASE_URL = fcm[0]
        settings.FCM_CREDENTIALS_FILE = str(fcm[1])
        with django_capture_on_commit_callbacks(execute=True):
            message = send(alice, direct, "hello")
    assert {r["token"] for r in recorded.requests} == {phone.push_token, DEAD_TOKEN}
    first = next(r for r in recorded.requests if r["token"] == phone.push_token)
    assert first["headers"]["apns-topic"] == "com.meetnow.app"
    assert first["headers"]["apns-push-type"] == "alert"
    assert first["body"]["aps"]["badge"] == 1
    assert first["body"]["message_id"] == str(message.id)
    assert "hello" not in str(first["body"])
    assert Device.objects.get(pk=dead.pk).push_token == ""


def test_clear_push_when_read_on_another_device(
    settings: LazySettings,
    alice: User,
    bob: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    direct = make_direct(alice, bob)
    make_device(bob, platform="ios")
    with fake_apns(tmp_path) as (base, key_file, recorded), fake_fcm(tmp_path) as fcm:
        _apns_settings(settings, base, key_file)
        settings.FCM_BASE_URL = fcm[0]
        settings.FCM_CREDENTIALS_FILE = str(fcm[1])
        with django_capture_on_commit_callbacks(execute=True):
            message = send(alice, direct, "x")
        with django_capture_on_commit_callbacks(execute=True):
            services.conversation_mark_read(
                user=bob, conversation_uuid=direct.uuid, message_id=message.id
            )
    kinds = [(r["body"]["type"], r["headers"]["apns-push-type"]) for r in recorded.requests]
    assert kinds == [("message", "alert"), ("clear", "background")]
    assert recorded.requests[1]["body"]["aps"] == {"badge": 0, "content-available": 1}


def test_a_broker_failure_after_commit_does_not_fail_the_send(
    alice: User,
    bob: User,
    alice_api: APIClient,
    bob_api: APIClient,
    broker_down: str,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    direct = make_direct(alice, bob)
    cursor = bob_api.get("/api/v1/sync").json()["cursor"]
    client_id = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = alice_api.post(
            f"/api/v1/conversations/{direct.uuid}/messages",
            {"client_id": client_id, "text": "still delivered"},
        )
    assert response.status_code == 201
    # The push was handed to the broker after commit, and the broker was down.
    assert callbacks
    # The refused push waits in the outbox for the broker (meetnow.lib.outbox).
    from meetnow.models import TaskOutbox

    assert TaskOutbox.objects.filter(task__startswith="push.").exists()
    # Stored once, and the other member's sync has it: only the push was lost.
    stored = Message.objects.get(conversation=direct, client_id=client_id)
    assert stored.text == "still delivered"
    assert response.json()["id"] == stored.id
    events = bob_api.get("/api/v1/sync", {"since": cursor}).json()["events"]
    assert [(e["type"], e.get("message_id")) for e in events] == [("message.created", stored.id)]


@pytest.mark.parametrize("offline", ["socket closed", "app in the background"])
def test_no_task_when_every_recipient_is_online(
    alice: User,
    bob: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_sent: SentTasks,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
    offline: str,
) -> None:
    """With the Redis channel layer and cache, a send makes one Redis round trip after
    commit: the live events' publishes and the recipients' presence in one pipeline,
    never a separate presence read."""
    separate: list[object] = []
    if settings.REDIS_URL:
        monkeypatch.setattr(chat.events, "online_user_ids", lambda **kw: separate.append(kw))
    direct = make_direct(alice, bob)
    presence_set(user_id=bob.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(
            sender=alice, conversation_uuid=direct.uuid, client_id=uuid.uuid4(), text="hi"
        )
    assert celery_sent.named(message_push_task.name) == []
    if offline == "socket closed":
        presence_clear(user_id=bob.pk)
    else:
        presence_set(user_id=bob.pk, state=BACKGROUND)
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = services.message_send(
            sender=alice, conversation_uuid=direct.uuid, client_id=uuid.uuid4(), text="hi"
        )
    [sent] = celery_sent.named(message_push_task.name)
    assert sent.args == (message.id,)
    assert separate == []
