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
