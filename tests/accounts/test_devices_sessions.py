"""Devices, sessions and security events (P5, P6, P10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings

from accounts.models import Device, SecurityEvent, User
from accounts.sms import backends
from tests.accounts.conftest import App
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613600136000"
DEVICE: dict[str, Any] = {
    "device_id": "6F1C-app-scoped",
    "platform": "ios",
    "model": "iPhone15,2",
    "os_version": "17.5",
    "app_version": "2.3.0",
    "network_type": "wifi",
    "push_token": "apns-token-1",
    "push_enabled": True,
}


@pytest.fixture
def member(db: None) -> User:
    return UserFactory.create(phone=PHONE)


def login(app: App, outbox: list[backends.OutgoingMessage]) -> App:
    status, _ = app.call("POST", "/auth/code/request", {"phone": PHONE})
    assert status == 401
    status, body = app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    assert status == 200, body
    return app


def test_register_device_rejects_unknown_fields(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    login(app, outbox)
    extras: list[dict[str, Any]] = [
        {"imei": "356938035643809"},
        {"ip_address": "1.2.3.4"},
        {"contacts": []},
    ]
    for extra in extras:
        status, body = app.call("POST", "/api/v1/devices", {**DEVICE, **extra})
        assert status == 400
        assert body["errors"][0]["code"] == "unknown_field"
        assert body["errors"][0]["param"] == next(iter(extra))
    for bad in [{"platform": "windows"}, {"device_id": ""}, {"push_enabled": "sometimes"}]:
        status, body = app.call("POST", "/api/v1/devices", {**DEVICE, **bad})
        assert status == 400, bad
    assert Device.objects.count() == 0


def test_register_then_update_the_same_device(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    login(app, outbox)
    status, body = app.call("POST", "/api/v1/devices", DEVICE)
    assert status == 201, body
    assert body["current"] is True
    assert "push_token" not in body  # never echoed back
    assert body["network_type"] == "wifi"
    status, body = app.call(
        "POST", "/api/v1/devices", {**DEVICE, "app_version": "2.4.0", "network_type": "5g"}
    )
    assert status == 200
    device = Device.objects.get()
    assert (device.app_version, device.network_type) == ("2.4.0", "5g")
    status, body = app.call("POST", "/api/v1/devices", {**DEVICE, "network_type": "carrier-x"})
    assert status == 400
    assert body["errors"][0]["param"] == "network_type"
    assert device.ip_address == "127.0.0.1"
    assert device.session_key == app.token
    # One device, nothing new: no new-device notice.
    assert not SecurityEvent.objects.filter(kind="new_device").exists()


notices: list[dict[str, int]] = []


def record_notice(*, user_id: int, device_id: int) -> None:
    """Stands in for the push layer that the hook hands new-device notices to."""
    notices.append({"user_id": user_id, "device_id": device_id})


def test_login_from_a_new_device_is_recorded_for_the_other_devices(
    app_factory: Callable[[], App],
    outbox: list[backends.OutgoingMessage],
    member: User,
    settings: LazySettings,
) -> None:
    settings.MEETNOW_NEW_DEVICE_NOTIFIER = f"{__name__}.record_notice"
    notices.clear()
    first = login(app_factory(), outbox)
    first.call("POST", "/api/v1/devices", DEVICE)
    second = login(app_factory(), outbox)
    second.call(
        "POST", "/api/v1/devices", {**DEVICE, "device_id": "android-2", "platform": "android"}
    )
    event = SecurityEvent.objects.get(kind="new_device")
    assert event.user == member
    assert event.device is not None
    assert event.device.device_id == "android-2"
    assert event.detail["notified_devices"] == 1
    assert notices == [{"user_id": member.pk, "device_id": event.device.pk}]
    status, body = first.call("GET", "/api/v1/security-events")
    assert status == 200
    kinds = [e["kind"] for e in body["results"]]
    assert "new_device" in kinds
    assert "login_succeeded" in kinds


def test_login_from_a_never_seen_device_is_announced_at_login(
    app_factory: Callable[[], App],
    outbox: list[backends.OutgoingMessage],
    member: User,
    settings: LazySettings,
) -> None:
    settings.MEETNOW_NEW_DEVICE_NOTIFIER = f"{__name__}.record_notice"
    settings.ACCOUNT_RATE_LIMITS = False  # five logins of one number in a minute
    notices.clear()
    first = login(app_factory(), outbox)
    first.call("POST", "/api/v1/devices", DEVICE)
    # The second phone names itself at login and never calls POST /devices.
    second = app_factory()
    second.headers = {"X-Device-Id": "android-2", "X-Device-Platform": "Android"}
    login(second, outbox)
    event = SecurityEvent.objects.get(kind="new_device")
    assert event.user == member
    assert event.device is not None
    assert (event.device.device_id, event.device.platform) == ("android-2", "android")
    assert event.device.session_key == second.token
    assert notices == [{"user_id": member.pk, "device_id": event.device.pk}]
    status, body = first.call("GET", "/api/v1/security-events")
    assert status == 200
    assert "new_device" in [e["kind"] for e in body["results"]]
    # Logging in again from either known phone announces nothing more.
    again = app_factory()
    again.headers = {"X-Device-Id": "android-2", "X-Device-Platform": "android"}
    login(again, outbox)
    known = app_factory()
    known.headers = {"X-Device-Id": DEVICE["device_id"], "X-Device-Platform": "ios"}
    login(known, outbox)
    assert SecurityEvent.objects.filter(kind="new_device").count() == 1
    assert len(notices) == 1
    # A malformed header never breaks the login.
    odd = app_factory()
    odd.headers = {"X-Device-Id": "x" * 500, "X-Device-Platform": "fax"}
    login(odd, outbox)
    assert SecurityEvent.objects.filter(kind="new_device").count() == 1


def test_rate_limited_code_requests_are_logged_as_code_abuse(
    app_factory: Callable[[], App], outbox: list[backends.OutgoingMessage], member: User
) -> None:
    statuses = [
        app_factory().call("POST", "/auth/code/request", {"phone": PHONE})[0] for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    abuse = SecurityEvent.objects.get(kind="code_abuse")
    assert abuse.user is None  # the number is never linked or stored
    assert abuse.ip_address == "127.0.0.1"
    assert PHONE not in str(abuse.detail)


def test_removing_a_device_ends_its_session(
    app_factory: Callable[[], App], outbox: list[backends.OutgoingMessage], member: User
) -> None:
    phone_a = login(app_factory(), outbox)
    phone_a.call("POST", "/api/v1/devices", DEVICE)
    phone_b = login(app_factory(), outbox)
    phone_b.call("POST", "/api/v1/devices", {**DEVICE, "device_id": "b", "push_token": "t2"})
    status, devices = phone_b.call("GET", "/api/v1/devices")
    assert status == 200
    assert sorted(d["current"] for d in devices) == [False, True]
    other = next(d for d in devices if not d["current"])
    status, _ = phone_b.call("DELETE", f"/api/v1/devices/{other['id']}")
    assert status == 204
    assert phone_a.call("GET", "/api/v1/me")[0] == 401
    assert phone_b.call("GET", "/api/v1/me")[0] == 200
    assert phone_b.call("DELETE", f"/api/v1/devices/{other['id']}")[0] == 404


def test_cannot_touch_someone_elses_device(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    from tests.factories.accounts import DeviceFactory

    login(app, outbox)
    theirs = DeviceFactory.create()
    assert app.call("DELETE", f"/api/v1/devices/{theirs.pk}")[0] == 404
    assert Device.objects.filter(pk=theirs.pk).exists()


def test_sessions_list_end_one_and_end_others(
    app_factory: Callable[[], App], outbox: list[backends.OutgoingMessage], member: User
) -> None:
    a, b, c = (login(app_factory(), outbox) for _ in range(3))
    b.call("POST", "/api/v1/devices", DEVICE)
    status, sessions = a.call("GET", "/api/v1/sessions")
    assert status == 200
    assert len(sessions) == 3
    assert sum(s["current"] for s in sessions) == 1
    with_device = [s for s in sessions if s["device"]]
    assert [s["device"]["model"] for s in with_device] == ["iPhone15,2"]

    c_session = next(s for s in c.call("GET", "/api/v1/sessions")[1] if s["current"])
    assert a.call("DELETE", f"/api/v1/sessions/{c_session['id']}")[0] == 204
    assert c.call("GET", "/api/v1/me")[0] == 401
    assert a.call("DELETE", f"/api/v1/sessions/{c_session['id']}")[0] == 404

    status, body = a.call("POST", "/api/v1/sessions/end-others")
    assert (status, body) == (200, {"ended": 1})
    assert b.call("GET", "/api/v1/me")[0] == 401
    assert a.call("GET", "/api/v1/me")[0] == 200
    assert len(a.call("GET", "/api/v1/sessions")[1]) == 1
    assert SecurityEvent.objects.filter(user=member, kind="session_ended").count() == 2


def test_sessions_of_others_are_invisible(
    app_factory: Callable[[], App], outbox: list[backends.OutgoingMessage], member: User
) -> None:
    mine = login(app_factory(), outbox)
    other_user = UserFactory.create(phone="+8613500135000")
    other = app_factory()
    other.call("POST", "/auth/code/request", {"phone": str(other_user.phone)})
    other.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    [their_session] = other.call("GET", "/api/v1/sessions")[1]
    assert mine.call("DELETE", f"/api/v1/sessions/{their_session['id']}")[0] == 404
    assert other.call("GET", "/api/v1/me")[0] == 200


def test_push_devices_respect_the_push_preferences(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    from accounts.selectors import push_devices_for_users

    login(app, outbox)
    app.call("POST", "/api/v1/devices", DEVICE)
    assert len(push_devices_for_users(user_ids=[member.pk])) == 1
    app.call("PATCH", "/api/v1/me", {"push_enabled": False})
    assert push_devices_for_users(user_ids=[member.pk]) == []
    app.call("PATCH", "/api/v1/me", {"push_enabled": True})
    app.call("POST", "/api/v1/devices", {**DEVICE, "push_enabled": False})
    assert push_devices_for_users(user_ids=[member.pk]) == []


def test_device_session_and_event_lists_have_a_fixed_query_count(
    app_factory: Callable[[], App],
    outbox: list[backends.OutgoingMessage],
    member: User,
    settings: LazySettings,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.ACCOUNT_RATE_LIMITS = {"request_login_code": "9/m/key", "sms_to_number": "9/m/key"}
    me = login(app_factory(), outbox)
    me.call("POST", "/api/v1/devices", DEVICE)

    def counts() -> list[int]:
        out = []
        for path in ["/api/v1/devices", "/api/v1/sessions", "/api/v1/security-events"]:
            with CaptureQueriesContext(connection) as ctx:
                assert me.call("GET", path)[0] == 200
            out.append(len(ctx))
        return out

    before = counts()
    for n in range(3):
        other = login(app_factory(), outbox)
        other.call("POST", "/api/v1/devices", {**DEVICE, "device_id": f"d{n}", "push_token": ""})
    assert counts() == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/devices/99999999999999999999999",
        "/api/v1/sessions/99999999999999999999999",
        "/api/v1/social-accounts/99999999999999999999999",
    ],
)
def test_huge_ids_are_not_found(
    app: App, outbox: list[backends.OutgoingMessage], member: User, path: str
) -> None:
    login(app, outbox)
    status, body = app.call("DELETE", path)
    assert status == 404
    assert body["errors"][0]["code"] == "not_found"
