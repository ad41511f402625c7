"""Dates, times and numbers for people: the user's language and zone (issue 17).

``meetnow.lib.i18n.display`` is the one helper; the API's machine timestamps stay
ISO-8601 UTC.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.conf import LazySettings
from django.utils import timezone

from accounts.models import User
from meetnow.lib.i18n import display
from privacy.lifecycle import request_create
from privacy.models import PrivacyRequest
from tests.factories.accounts import UserFactory
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 12, 4, 10, 5, tzinfo=dt.UTC)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_a_zh_hans_user_reads_chinese_formats_in_shanghai_time() -> None:
    user = UserFactory.build(language="zh-hans", time_zone="")
    assert display(WHEN, user=user) == "2026年12月4日 18:05"
    assert display(dt.date(2026, 12, 19), user=user) == "2026年12月19日"
    assert display(12345, user=user) == "12,345"
    assert display(Decimal("1234567.5"), user=user) == "1,234,567.5"


def test_an_english_user_reads_english_formats_in_their_own_zone() -> None:
    utc = UserFactory.build(language="en", time_zone="")
    berlin = UserFactory.build(language="en", time_zone="Europe/Berlin")
    assert display(WHEN, user=utc) == "Dec. 4, 2026, 10:05 a.m."
    assert display(WHEN, user=berlin) == "Dec. 4, 2026, 11:05 a.m."
    assert display(dt.date(2026, 12, 19), user=utc) == "Dec. 19, 2026"
    assert display(12345.5, user=utc) == "12,345.5"


def test_a_zh_hans_user_with_a_zone_of_their_own_reads_that_zone() -> None:
    user = UserFactory.build(language="zh-hans", time_zone="Europe/Berlin")
    assert display(WHEN, user=user) == "2026年12月4日 11:05"


def _too_soon(user: User, language: str) -> tuple[str, dt.datetime]:
    """The answer to a second export inside the interval, and when the next is allowed."""
    first = request_create(user=user, kind="access", identity_confirmed=True)
    received = (timezone.now() - dt.timedelta(days=1)).replace(
        hour=16, minute=30, second=0, microsecond=0
    )
    PrivacyRequest.objects.filter(pk=first.pk).update(received_at=received)
    response = api_client_for(user).post(
        "/api/v1/privacy/requests", {"kind": "access"}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 429
    [error] = response.json()["errors"]
    assert error["code"] == "export_too_soon"
    return error["message"], received + dt.timedelta(days=30)


def test_the_next_export_date_in_chinese_and_shanghai_time(settings: LazySettings) -> None:
    settings.MEETNOW_PRIVACY_EXPORT_INTERVAL_DAYS = 30
    user = UserFactory.create(language="zh-hans", time_zone="")
    message, next_allowed = _too_soon(user, "zh-Hans")
    local = next_allowed.astimezone(SHANGHAI)  # 16:30 UTC is 00:30 the next day there
    assert f"{local.year}年{local.month}月{local.day}日 00:30" in message
    assert "UTC" not in message


def test_the_next_export_date_in_english_and_the_users_zone(settings: LazySettings) -> None:
    settings.MEETNOW_PRIVACY_EXPORT_INTERVAL_DAYS = 30
    user = UserFactory.create(language="en", time_zone="America/New_York")
    message, next_allowed = _too_soon(user, "en")
    local = next_allowed.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert message.startswith("One export per 30 days; the next one is possible after ")
    assert f"{local.day}, {local.year}, " in message
    assert f"{local.hour - 12 if local.hour > 12 else local.hour}:30 " in message
