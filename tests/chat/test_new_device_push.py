"""A sign-in on a new phone is pushed to the user's other phones (P6), and to no one else."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings
from pytest_django import DjangoCaptureOnCommitCallbacks

from chat import notify
from chat.models import Event
from tests.chat.fakes import fake_fcm
from tests.factories.chat import make_device, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def test_registering_a_new_phone_notifies_the_other_phones_only(
    settings: LazySettings,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    old_phone = make_device(alice, platform="android")
    make_device(alice, platform="android", push_enabled=False)  # push off on this one (P10)
    make_device(bob, platform="android")
    with fake_fcm(tmp_path) as (base, credentials, recorded):
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_BASE_URL = base
        settings.FCM_CREDENTIALS_FILE = str(credentials)
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client_for(alice).post(
                "/api/v1/devices",
                {
                    "device_id": "brand-new-phone",
                    "platform": "android",
                    "model": "Pixel 9",
                    "os_version": "16",
                    "app_version": "1.0.0",
                    "push_token": "new-phone-token",
                    "push_enabled": True,
                },
                format="json",
            )
        assert response.status_code in (200, 201), response.json()
        new_id = alice.devices.get(device_id="brand-new-phone").pk
        # A redelivered task tells nobody twice.
        assert notify.new_device_push_send(user_id=alice.pk, device_id=new_id) == 0

    assert [r["body"]["message"]["token"] for r in recorded.requests] == [old_phone.push_token]
    # The notice is an event on the account's stream too: the other phones' /sync and
    # sockets carry it (the device's id only); nobody else's stream does.
    events = api_client_for(alice).get("/api/v1/sync", {"since": 0}).json()["events"]
    notices = [e for e in events if e["type"] == "security.new_device"]
    assert len(notices) == 1
    assert notices[0]["device_id"] == new_id
    assert not Event.objects.filter(user=bob, type="security.new_device").exists()
    message = recorded.requests[0]["body"]["message"]
    assert message["data"]["type"] == "new_device"
    assert "Pixel" not in str(message)  # no device details in the notice


def test_the_first_phone_notifies_nobody(
    settings: LazySettings,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    alice = make_user("alice")
    with fake_fcm(tmp_path) as (base, credentials, recorded):
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_BASE_URL = base
        settings.FCM_CREDENTIALS_FILE = str(credentials)
        with django_capture_on_commit_callbacks(execute=True):
            api_client_for(alice).post(
                "/api/v1/devices",
                {"device_id": "first", "platform": "android", "push_token": "t1"},
                format="json",
            )
    assert recorded.requests == []
