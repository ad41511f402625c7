"""A staff member who works in Chinese sees the admin in Chinese (issue 17; one screenshot).

Headless Chromium against the real server, as in test_admin_browser.py; the browser
asks for English, the account's language wins.
"""

from __future__ import annotations

import re
from typing import Any

from accounts.models import User
from staff.roles import MODERATORS
from tests.e2e.test_admin_browser import (
    PASSWORD,
    Steps,
    browser_page,
    fresh_totp,
    make_staff,
    submit,
)

__all__ = ["browser_page"]


def test_chinese_staff_member_sees_the_user_change_list_in_chinese(
    asgi_server: str, browser_page: Any
) -> None:
    from tests.admin.conftest import enrol_totp

    staff = make_staff("zhstaff", MODERATORS)
    staff.language = "zh-hans"
    staff.save(update_fields=["language"])
    secret, _codes = enrol_totp(staff)
    User.objects.create_user(nickname="Offender", phone="+8613800138000")
    page = browser_page
    page.set_extra_http_headers({"Accept-Language": "en-US,en;q=0.9"})
    steps = Steps(page, "admin-chinese")

    page.goto(f"{asgi_server}/admin/accounts/user/")
    page.wait_for_url(re.compile(r".*/admin/login/.*"))
    page.fill("#id_username", "zhstaff")
    page.fill("#id_password", PASSWORD)
    submit(page, "input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/2fa/verify/.*"))
    page.fill("#id_code", fresh_totp(secret, set()))
    submit(page, "#mfa-verify-form input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/accounts/user/.*"))

    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.locator("#result_list").is_visible()
    assert "Offender" in page.inner_text("#result_list")
    options = page.locator("select[name=action] option").all_inner_texts()
    assert "封禁所选账号（会话立即结束）" in options
    assert page.locator("#changelist-search input[type=submit]").get_attribute("value") == "搜索"
    steps.shot("user-change-list-zh-hans")

    # The index: the apps' own model names in Chinese too (verbose names, issue 17).
    page.goto(f"{asgi_server}/admin/")
    index = page.inner_text("#content-main")
    assert "举报" in index  # chat's reports
    assert "动态举报" in index  # dating's post reports
    assert "消息" in index  # chat's messages
    assert "reports" not in index.lower()
    steps.shot("admin-index-zh-hans")
