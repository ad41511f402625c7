"""Incoming-call pushes through the local FCM and APNs fakes (P10): ids only, short-lived,
VoIP on iOS when enabled, a "stop ringing" push when the call ends unanswered."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.models import User
from chat.calls import services as calls
from chat.presence import presence_set
from chat.services import conversation_mute_set
from tests.chat.fakes import Recorded, fake_apns, fake_fcm
from tests.factories.chat import make_device, make_direct

pytestmark = pytest.mark.django_db

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 192.0.2.7\r\n"}


def _native(
    settings: LazySettings,
    apns: tuple[str, Path, Recorded],
    fcm: tuple[str, Path, Recorded],
    *,
    voip: bool,
) -> None:
    settings.PUSH_BACKEND = "native"
    settings.APNS_BASE_URL = apns[0]
    settings.APNS_KEY_FILE = str(apns[1])
    settings.APNS_KEY_ID = "KEYID"
    settings.APNS_TEAM_ID = "TEAMID"
    settings.APNS_TOPIC = "com.meetnow.app"
    settings.FCM_BASE_URL = fcm[0]
    settings.FCM_CREDENTIALS_FILE = str(fcm[1])
    settings.MEETNOW_CALL_PUSH_VOIP = voip
    settings.MEETNOW_CALL_RING_TIMEOUT = 45


@pytest.mark.parametrize("voip", [True, False])
def test_incoming_call_push_and_stop_ringing(
    settings: LazySettings,
    alice: User,
    bob: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    voip: bool,
    celery_eager: None,
) -> None:
    direct = make_direct(alice, bob)
    iphone = make_device(bob, platform="ios")
    android = make_device(bob, platform="android")
    with fake_apns(tmp_path) as apns, fake_fcm(tmp_path) as fcm:
        _native(settings, apns, fcm, voip=voip)
        with django_capture_on_commit_callbacks(execute=True):
            call = calls.call_invite(
                caller=alice, conversation_uuid=direct.uuid, media="video", offer=OFFER
            )
        with django_capture_on_commit_callbacks(execute=True):
            calls.call_end(user=alice, call_uuid=call.uuid, action="cancel")
    ios = apns[2].requests
    assert [r["token"] for r in ios] == [iphone.push_token] * 2
    ring, stop = ios
    if voip:
        assert ring["headers"]["apns-push-type"] == "voip"
        assert ring["headers"]["apns-topic"] == "com.meetnow.app.voip"
    else:
        assert ring["headers"]["apns-push-type"] == "alert"
        assert ring["body"]["aps"]["interruption-level"] == "time-sensitive"
    assert ring["headers"]["apns-priority"] == "10"
    assert "apns-expiration" in ring["headers"]
    assert ring["body"]["type"] == "call"
    assert ring["body"]["call"] == str(call.uuid)
    assert ring["body"]["caller"] == str(alice.uuid)
    assert "badge" not in ring["body"]["aps"]  # a call never resets the unread badge
    assert (stop["body"]["type"], stop["headers"]["apns-push-type"]) == ("call_end", "background")
    assert stop["body"]["outcome"] == "cancelled"
    # Android: data-only, high priority, expires with the ring timeout.
    sent = [r["body"]["message"] for r in fcm[2].requests]
    assert [m["token"] for m in sent] == [android.push_token] * 2
    assert sent[0]["android"] == {"priority": "high", "ttl": "45s"}
    assert "notification" not in sent[0]
    assert sent[0]["data"]["type"] == "call"
    assert sent[0]["data"]["media"] == "video"
    assert sent[1]["data"]["type"] == "call_end"
    # P11: nothing of the offer in any push.
    assert "192.0.2.7" not in str(ios) + str(sent)


def test_no_call_push_to_a_callee_online_or_who_muted_the_conversation(
    settings: LazySettings,
    alice: User,
    bob: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    direct = make_direct(alice, bob)
    make_device(bob)
    with fake_fcm(tmp_path) as (base, credentials, recorded):
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_BASE_URL = base
        settings.FCM_CREDENTIALS_FILE = str(credentials)
        presence_set(user_id=bob.pk)
        with django_capture_on_commit_callbacks(execute=True):
            call = calls.call_invite(caller=alice, conversation_uuid=direct.uuid, media="audio")
        with django_capture_on_commit_callbacks(execute=True):
            calls.call_end(user=alice, call_uuid=call.uuid, action="cancel")
        assert recorded.requests == []  # online: no ring push, so no stop push either
        from chat.presence import presence_clear

        presence_clear(user_id=bob.pk)
        conversation_mute_set(user=bob, conversation_uuid=direct.uuid, muted=True)
        with django_capture_on_commit_callbacks(execute=True):
            calls.call_invite(caller=alice, conversation_uuid=direct.uuid, media="audio")
        assert recorded.requests == []
