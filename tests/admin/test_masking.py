"""Personal data is masked for staff who are not superusers; reveals are logged (P12, P18)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory

from accounts.models import Device, User
from meetnow.lib.adminkit import audit_message
from meetnow.lib.masking import can_see_personal_data, mask_device_id, mask_ip, mask_text
from tests.admin.conftest import login_mfa_passed

DEVICE_ID = "abcd1234efgh5678"
IP = "203.0.113.57"


def test_maskers() -> None:
    assert mask_ip(IP) == "203.0.113.x"
    assert mask_ip("2001:db8:1:2::5") == "2001:db8:x"
    assert mask_ip("not an ip") == "****"
    assert mask_ip(None) == "-"
    assert mask_device_id(DEVICE_ID) == "abcd****78"
    assert mask_device_id("short") == "****"
    assert mask_text("Beijing Road 5", keep_start=2, keep_end=0) == "Be****"


def test_only_active_superusers_see_personal_data() -> None:
    assert can_see_personal_data(User(is_superuser=True, is_staff=True))
    assert not can_see_personal_data(User(is_superuser=False, is_staff=True))
    assert not can_see_personal_data(User(is_superuser=True, is_active=False))


@pytest.fixture
def device(db: None) -> Device:
    user = User.objects.create_user(nickname="Lin")
    return Device.objects.create(
        user=user, device_id=DEVICE_ID, platform="ios", ip_address=IP, model="iPhone"
    )


@pytest.fixture
def staff_client(client: Client, make_staff: Callable[..., User]) -> Client:
    staff = make_staff("viewer")
    staff.user_permissions.add(Permission.objects.get(codename="view_device"))
    return login_mfa_passed(client, staff)


pytestmark = pytest.mark.urls("tests.admin.urls")


def test_lists_and_detail_pages_mask_for_staff(staff_client: Client, device: Device) -> None:
    page = staff_client.get("/masktest/accounts/device/").content.decode()
    assert "abcd****78" in page
    assert "203.0.113.x" in page
    assert DEVICE_ID not in page
    assert IP not in page

    detail = staff_client.get(f"/masktest/accounts/device/{device.pk}/change/").content.decode()
    assert "abcd****78" in detail
    assert DEVICE_ID not in detail
    assert IP not in detail


def test_superusers_see_values_in_clear(
    client: Client, make_staff: Callable[..., User], device: Device
) -> None:
    login_mfa_passed(client, make_staff("root", superuser=True))
    page = client.get("/masktest/accounts/device/").content.decode()
    assert DEVICE_ID in page
    assert IP in page


def test_masked_values_cannot_be_probed(staff_client: Client, device: Device) -> None:
    partial = staff_client.get("/masktest/accounts/device/?q=1234ef").content.decode()
    assert "0 devices" in partial or "abcd****78" not in partial
    exact = staff_client.get(f"/masktest/accounts/device/?q={IP}").content.decode()
    assert "abcd****78" in exact  # an exact value the searcher already has is fine
    # Query-string lookups on masked fields are refused (no filter by prefix either).
    for lookup in ("device_id__startswith=abcd", f"ip_address={IP}"):
        assert staff_client.get(f"/masktest/accounts/device/?{lookup}").status_code == 400


def test_reveal_needs_the_permission(staff_client: Client, device: Device) -> None:
    response = staff_client.get(f"/masktest/accounts/device/{device.pk}/reveal/")
    assert response.status_code == 403


def test_reveal_asks_a_reason_and_is_logged(
    client: Client, make_staff: Callable[..., User], device: Device
) -> None:
    staff = make_staff("agent")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_device", "delete_device"])
    )
    login_mfa_passed(client, staff)
    url = f"/masktest/accounts/device/{device.pk}/reveal/"

    form = client.get(url)
    assert form.status_code == 200
    assert DEVICE_ID not in form.content.decode()

    short = client.post(url, {"field": "device_id", "reason": "why"})
    assert DEVICE_ID not in short.content.decode()
    assert not LogEntry.objects.exists()

    shown = client.post(url, {"field": "device_id", "reason": "Ticket 42: user lost the phone"})
    assert shown.status_code == 200
    assert shown["Cache-Control"].startswith("no-store")
    assert f'id="revealed-value">{DEVICE_ID}<' in shown.content.decode()
    entry = LogEntry.objects.get()
    assert entry.user_id == staff.pk
    assert entry.object_id == str(device.pk)
    assert (
        audit_message(entry.change_message)
        == "Revealed device id. Reason: Ticket 42: user lost the phone"
    )
    assert DEVICE_ID not in entry.change_message


@pytest.mark.urls("meetnow.urls")
def test_consent_ips_are_masked_for_support(client: Client, support_agent: User) -> None:
    from privacy.models import Consent, PolicyDocument

    user = User.objects.create_user(nickname="Lin")
    document = PolicyDocument.objects.create(
        kind="privacy_policy", version="7.0", title="Policy", body="..."
    )
    consent = Consent.objects.create(
        user=user, document=document, kind="privacy_policy", version="7.0", ip_address=IP
    )
    login_mfa_passed(client, support_agent)
    listing = client.get("/admin/privacy/consent/").content.decode()
    detail = client.get(f"/admin/privacy/consent/{consent.pk}/change/").content.decode()
    for page in (listing, detail):
        assert "203.0.113.x" in page
        assert IP not in page


SENSITIVE_FIELDS = {"phone", "ip_address", "device_id", "push_token"}


@pytest.mark.urls("meetnow.urls")
def test_no_admin_shows_a_phone_ip_or_device_id_in_clear_to_staff(
    rf: RequestFactory, make_staff: Callable[..., User]
) -> None:
    """Every registered admin, present and future: lists and detail pages (P12, P18)."""
    from django.contrib import admin as django_admin
    from django.contrib.admin.utils import flatten_fieldsets

    staff = make_staff("looker")
    request = rf.get("/admin/")
    request.user = staff
    checked = 0
    for model, model_admin in django_admin.site._registry.items():
        names = {f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)}
        sensitive = names & SENSITIVE_FIELDS
        if not sensitive:
            continue
        shown = [*model_admin.get_list_display(request)]
        shown += flatten_fieldsets(model_admin.get_fieldsets(request, None))
        leaked = {name for name in shown if isinstance(name, str)} & sensitive
        assert not leaked, f"{model._meta.label} shows {sorted(leaked)} in clear"
        checked += 1
    assert checked >= 4  # users, devices, security events, consents
