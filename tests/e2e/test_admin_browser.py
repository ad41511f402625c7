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
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from accounts.models import User
from accounts.services import staff_create
from meetnow.staff.roles import MODERATORS, SUPPORT, roles_sync
from tests.conftest import require_or_skip

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
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


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
    page.click("input[type=submit]")


def test_support_agent_signs_in_with_totp(asgi_server: str, browser_page: Any) -> None:
    from tests.admin.conftest import enrol_totp

    agent = make_staff("agent", SUPPORT)
    secret, _codes = enrol_totp(agent)
    page = browser_page
    steps = Steps(page, "support-agent")

    password_step(page, asgi_server, "agent", steps, "/admin/")
    page.wait_for_url(re.compile(r".*/admin/2fa/verify/.*"))
    page.fill("#id_code", "000000" if totp_now(secret) != "000000" else "111111")
    page.click("#mfa-verify-form input[type=submit]")
    assert "Incorrect code" in page.content()
    steps.shot("wrong-code-refused")

    page.fill("#id_code", fresh_totp(secret, set()))
    steps.shot("totp-code")
    page.click("#mfa-verify-form input[type=submit]")
    page.wait_for_url(f"{asgi_server}/admin/")
    assert page.locator("#dashboard").is_visible()
    assert "Overdue privacy requests" in page.content()
    steps.shot("dashboard")


def test_moderator_enrols_an_authenticator_on_first_login(
    asgi_server: str, browser_page: Any
) -> None:
    make_staff("moderator", MODERATORS)
    page = browser_page
    steps = Steps(page, "moderator")

    password_step(page, asgi_server, "moderator", steps, "/admin/")
    page.wait_for_url(re.compile(r".*/admin/2fa/enrol/.*"))
    assert page.locator("#totp-qr").is_visible()
    secret = page.inner_text("#totp-secret").strip()
    steps.shot("enrol-authenticator")
    page.fill("#id_code", totp_now(secret))
    page.click("#mfa-enrol-form input[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    steps.shot("recovery-codes")
    page.click("#mfa-continue")
    page.wait_for_url(f"{asgi_server}/admin/")
    assert "Open reports" in page.content()
    steps.shot("dashboard")
