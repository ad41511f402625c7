"""Staff work in a real browser against a real server (issue 7; P8, P12, P13, P17).

Headless Chromium (Debian's ``chromium``) driven by Playwright's Python package,
against uvicorn serving ``meetnow.asgi`` on the test database. Screenshots of
every step go to ``var/e2e-screenshots/``. Skipped outside CI when there is no
browser; under CI=true a missing browser fails.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.db import connections
from django.utils import timezone

from accounts.models import User
from accounts.services import staff_create
from chat.services import report_create
from privacy.lifecycle import request_create
from privacy.models import PrivacyRequest, RequestKind, RequestStatus
from staff.roles import MODERATORS, SUPPORT, roles_sync
from tests.conftest import require_or_skip
from tests.factories.chat import make_direct, send

CHROMIUM = Path(os.environ.get("MEETNOW_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "e2e-screenshots"
PASSWORD = "e2e staff password 1234"


def totp_now(secret: str) -> str:
    """The current code, never one about to expire while the browser submits it."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    code: str = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    return code


def fresh_totp(secret: str, used: set[str]) -> str:
    """A code not used before: a TOTP code works once, so wait for the next one if needed."""
    code = totp_now(secret)
    while code in used:
        time.sleep(1)
        code = totp_now(secret)
    used.add(code)
    return code


class Steps:
    """Takes a numbered full-page screenshot of each step of one scenario."""

    def __init__(self, page: Any, scenario: str) -> None:
        self.page = page
        self.folder = SCREENSHOTS / scenario
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def shot(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    has_playwright = importlib.util.find_spec("playwright") is not None
    require_or_skip(
        has_playwright and CHROMIUM.exists(),
        f"no browser for the admin e2e tests (needs the playwright package and {CHROMIUM}; "
        "apt-get install chromium chromium-driver)",
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # ORM calls made while Playwright's loop ran may have opened their own
            # connection; close it, or the test database can't be dropped at the end.
            connections.close_all()


def submit(page: Any, selector: str) -> None:
    """Click a button that submits a form and wait for the answer page to load."""
    with page.expect_navigation():
        page.click(selector)


def make_staff(username: str, role: str) -> User:
    roles_sync()
    user = staff_create(username=username, password=PASSWORD)
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=role))
    return user


def password_step(page: Any, base: str, username: str, steps: Steps, next_path: str) -> None:
    page.goto(f"{base}{next_path}")
    page.wait_for_url(re.compile(r".*/admin/login/.*"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    steps.shot("login-password")
    submit(page, "input[type=submit]")


def test_support_agent_signs_in_with_totp_and_approves_the_overdue_request(
    asgi_server: str, browser_page: Any
) -> None:
    from tests.admin.conftest import enrol_totp

    agent = make_staff("agent", SUPPORT)
    secret, _codes = enrol_totp(agent)
    requester = User.objects.create_user(nickname="Requester", phone="+8613800138000")
    for _ in range(3):
        request_create(
            user=requester, kind=RequestKind.RECTIFICATION, details="x", identity_confirmed=True
        )
    overdue = request_create(
        user=User.objects.create_user(nickname="Late"),
        kind=RequestKind.RECTIFICATION,
        details="fix my nickname",
        identity_confirmed=True,
    )
    PrivacyRequest.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(days=2))
    page = browser_page
    steps = Steps(page, "support-agent")

    password_step(page, asgi_server, "agent", steps, "/admin/")
    page.wait_for_url(re.compile(r".*/admin/2fa/verify/.*"))
    page.fill("#id_code", "000000" if totp_now(secret) != "000000" else "111111")
    submit(page, "#mfa-verify-form input[type=submit]")
    assert "Incorrect code" in page.content()
    steps.shot("wrong-code-refused")

    page.fill("#id_code", fresh_totp(secret, set()))
    steps.shot("totp-code")
    submit(page, "#mfa-verify-form input[type=submit]")
    page.wait_for_url(f"{asgi_server}/admin/")
    assert page.locator("#dashboard").is_visible()
    steps.shot("dashboard")

    # The overdue request is first in the queue; open it and approve it.
    page.click("text=Overdue privacy requests")
    page.wait_for_url(re.compile(r".*/admin/privacy/privacyrequest/.*"))
    first_row = page.locator("#result_list tbody tr").first
    assert "OVERDUE" in first_row.inner_text()
    steps.shot("queue-overdue-first")
    first_row.locator("th a, td.field-uuid a").first.click()
    page.wait_for_url(re.compile(rf".*/privacyrequest/{overdue.pk}/change/"))
    assert "fix my nickname" in page.content()
    steps.shot("request-page")
    page.click("a.console-action:text-is('Approve')")
    page.wait_for_url(re.compile(r".*/act/approve/"))
    steps.shot("approve-confirm")
    submit(page, "#console-confirm")
    page.wait_for_url(re.compile(rf".*/privacyrequest/{overdue.pk}/change/"))
    assert "Approve: done." in page.content()
    steps.shot("approved")
    overdue.refresh_from_db()
    assert overdue.status in (RequestStatus.APPROVED, RequestStatus.IN_PROCESSING)
    assert overdue.reviewed_by_id == agent.pk


def test_moderator_enrols_then_hides_a_reported_message_and_bans_the_sender(
    asgi_server: str, browser_page: Any
) -> None:
    make_staff("moderator", MODERATORS)
    reporter = User.objects.create_user(nickname="Reporter")
    offender = User.objects.create_user(nickname="Offender")
    message = send(offender, make_direct(reporter, offender), "Send me money or else")
    report = report_create(reporter=reporter, reason="harassment", message_id=message.pk)
    page = browser_page
    steps = Steps(page, "moderator")

    password_step(page, asgi_server, "moderator", steps, "/admin/")
    page.wait_for_url(re.compile(r".*/admin/2fa/enrol/.*"))
    assert page.locator("#totp-qr").is_visible()
    secret = page.inner_text("#totp-secret").strip()
    steps.shot("enrol-authenticator")
    page.fill("#id_code", totp_now(secret))
    submit(page, "#mfa-enrol-form input[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    steps.shot("recovery-codes")
    page.click("#mfa-continue")
    page.wait_for_url(f"{asgi_server}/admin/")
    assert "Open reports" in page.content()
    steps.shot("dashboard")

    # The report: its page shows the reported message; hide it from the queue.
    page.click("text=Open reports")
    page.wait_for_url(re.compile(r".*/admin/chat/report/.*"))
    steps.shot("reports-queue")
    page.locator("#result_list tbody tr").first.locator("th a").first.click()
    page.wait_for_url(re.compile(rf".*/chat/report/{report.pk}/change/"))
    assert "Send me money or else" in page.content()
    steps.shot("report-page")
    page.goto(f"{asgi_server}/admin/chat/report/")
    page.check(f"input.action-select[value='{report.pk}']")
    page.select_option("select[name=action]", "resolve_hide_message")
    steps.shot("hide-message-action")
    submit(page, "button[name=index]")
    assert "1 report(s) resolved" in page.content()
    steps.shot("message-hidden")

    # Then ban the sender from the users list (their sessions end at once).
    page.goto(f"{asgi_server}/admin/accounts/user/?q=Offender")
    page.check(f"input.action-select[value='{offender.pk}']")
    page.select_option("select[name=action]", "ban")
    steps.shot("ban-action")
    submit(page, "button[name=index]")
    assert "1 account(s) banned." in page.content()
    steps.shot("user-banned")

    message.refresh_from_db()
    offender.refresh_from_db()
    report.refresh_from_db()
    assert message.moderated_at is not None
    assert report.status == "resolved"
    assert offender.banned_at is not None
