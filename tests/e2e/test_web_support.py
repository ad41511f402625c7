"""The web client's "Can't log in? Contact support" (issue 19) in a real browser: from
the login screen to the public form, a ticket with the reference shown, a bad number
refused in place. Screenshot: ``var/e2e-screenshots/web/support.png``."""

from __future__ import annotations

from typing import Any

from support.models import SupportTicket
from tests.e2e import test_web_client
from tests.e2e.test_web_client import SHOTS, new_page

browser = test_web_client.browser  # the same headless Chromium fixture


def test_a_person_who_cannot_log_in_reaches_support_from_the_login_screen(
    asgi_server: str, browser: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(browser, asgi_server, path="/#/login")
    page.click("#support-link")
    page.wait_for_selector("#support-form")
    page.select_option("#topic", "lost_number")
    page.fill("#support-phone", "12345")
    page.fill("#support-text", "I lost my SIM card.")
    page.click("#support-form button[type=submit]")
    page.wait_for_selector("#support-form .errors >> text=valid phone number")
    assert SupportTicket.objects.count() == 0

    page.fill("#support-phone", "138 0013 8000")
    page.fill("#support-contact", "me@example.com")
    page.click("#support-form button[type=submit]")
    page.wait_for_selector("#support-sent")
    page.screenshot(path=str(SHOTS / "support.png"))
    ticket = SupportTicket.objects.get()
    assert str(ticket.uuid) in page.inner_text("#support-sent")
    assert ticket.user is None
    assert ticket.topic == "lost_number"
    assert ticket.contact_phone == "+8613800138000"
    assert ticket.contact == "me@example.com"
    assert page.js_errors == []
