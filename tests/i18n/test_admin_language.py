"""Staff pages in the staff member's own language (issue 17)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services import staff_create
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def _client(language: str) -> Client:
    staff = staff_create(username=f"staff-{language}", password="x" * 16, superuser=True)
    staff.language = language
    staff.save(update_fields=["language"])
    client = Client()
    client.force_login(staff)
    return client


def test_user_change_list_in_chinese_for_a_chinese_staff_member() -> None:
    UserFactory.create(nickname="Offender")
    # The browser asks for English; the account's language wins on staff pages.
    page = _client("zh-hans").get("/admin/accounts/user/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert page.status_code == 200
    assert page["Content-Language"] == "zh-hans"
    html = page.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "封禁所选账号（会话立即结束）" in html  # our action
    assert "搜索" in html  # Django's own chrome
    assert "Ban the selected accounts" not in html


def test_an_english_staff_member_keeps_english_whatever_the_browser_says() -> None:
    page = _client("en").get("/admin/accounts/user/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    html = page.content.decode()
    assert "Ban the selected accounts (sessions end at once)" in html
    assert "封禁" not in html


def test_admin_messages_in_chinese() -> None:
    target = UserFactory.create(nickname="Offender")
    client = _client("zh-hans")
    page = client.post(
        "/admin/accounts/user/",
        {"action": "ban", "_selected_action": [target.pk]},
        follow=True,
    )
    assert "已封禁 1 个账号。" in page.content.decode()


def test_privacy_queue_deadline_in_the_staff_members_language_and_zone() -> None:
    import datetime as dt

    from privacy.lifecycle import request_create
    from privacy.models import PrivacyRequest, RequestKind

    requester = UserFactory.create(nickname="Requester")
    request = request_create(
        user=requester, kind=RequestKind.RECTIFICATION, details="fix", identity_confirmed=True
    )
    # 20:30 UTC is 04:30 the next day in Shanghai (a zh-Hans account's default zone).
    PrivacyRequest.objects.filter(pk=request.pk).update(
        due_at=dt.datetime(2026, 1, 2, 20, 30, tzinfo=dt.UTC)
    )
    html = _client("zh-hans").get("/admin/privacy/privacyrequest/").content.decode()
    row = html.split('class="field-deadline"')[1].split("</td>")[0]
    assert "已逾期 2026年1月3日 04:30" in row
    english = _client("en").get("/admin/privacy/privacyrequest/").content.decode()
    row = english.split('class="field-deadline"')[1].split("</td>")[0]
    assert "OVERDUE Jan. 2, 2026, 8:30 p.m." in row
