"""Admin: masked phone numbers except for superusers, exact-number search, bans (P6, P18)."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import SmsDelivery, User
from accounts.services import staff_create
from tests.factories.accounts import UserFactory
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_second_factor(settings: LazySettings) -> None:
    # Staff two-factor login is tested in tests/admin; these tests start signed in.
    settings.MEETNOW_STAFF_MFA_REQUIRED = False


@pytest.fixture
def moderator_client() -> Client:
    moderator = staff_create(username="mod", password="x" * 16)
    for codename in ["view_user", "change_user", "view_smsdelivery", "view_securityevent"]:
        moderator.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(staff_create(username="root", password="x" * 16, superuser=True))
    return client


def test_moderators_see_masked_numbers(moderator_client: Client) -> None:
    UserFactory.create(phone="+8613800138000", nickname="Lin")
    page = moderator_client.get("/admin/accounts/user/").content.decode()
    assert "+86 138****8000" in page
    assert "13800138000" not in page
    user = User.objects.get(nickname="Lin")
    page = moderator_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "+86 138****8000" in page
    assert "13800138000" not in page


def test_superusers_see_full_numbers(superuser_client: Client) -> None:
    UserFactory.create(phone="+8613800138000")
    page = superuser_client.get("/admin/accounts/user/").content.decode()
    assert "+8613800138000" in page


@pytest.mark.parametrize("term", ["+8613800138000", "13800138000", "+86 138 0013 8000"])
def test_search_by_exact_number_works_although_masked(moderator_client: Client, term: str) -> None:
    UserFactory.create(phone="+8613800138000", nickname="Target")
    UserFactory.create(phone="+8613800138001", nickname="Neighbour")
    page = moderator_client.get("/admin/accounts/user/", {"q": term}).content.decode()
    assert "Target" in page
    assert "Neighbour" not in page
    # A partial number finds nobody: numbers are not browsable by prefix.
    page = moderator_client.get("/admin/accounts/user/", {"q": "138001"}).content.decode()
    assert "Target" not in page


def test_ban_action_ends_sessions(moderator_client: Client) -> None:
    user = UserFactory.create()
    client = api_client_for(user)
    assert client.get("/api/v1/me").status_code == 200
    response = moderator_client.post(
        "/admin/accounts/user/", {"action": "ban", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_banned
    assert client.get("/api/v1/me").status_code == 401
    moderator_client.post(
        "/admin/accounts/user/", {"action": "unban", "_selected_action": [user.pk]}
    )
    user.refresh_from_db()
    assert not user.is_banned
    assert user.is_active


def test_sms_deliveries_are_read_only_and_never_show_codes(moderator_client: Client) -> None:
    SmsDelivery.objects.create(
        masked_phone="+86 138****8000", purpose="login", channel="sms", backend="twilio"
    )
    page = moderator_client.get("/admin/accounts/smsdelivery/")
    assert page.status_code == 200
    assert "+86 138****8000" in page.content.decode()
    assert moderator_client.get("/admin/accounts/smsdelivery/add/").status_code == 403


def test_user_list_query_count_does_not_grow(superuser_client: Client) -> None:
    counts = []
    for batch in (2, 10):
        UserFactory.create_batch(batch)
        with CaptureQueriesContext(connection) as ctx:
            assert superuser_client.get("/admin/accounts/user/").status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]
