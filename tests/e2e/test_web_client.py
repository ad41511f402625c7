"""The web client in a real browser against a real server and worker (issue 16).

Headless Chromium (Debian's ``chromium``) driven by Playwright, as the admin tests do:
two people sign up by phone with the code the console SMS backend printed on the
worker's terminal, one accepts the other's message request, they chat in realtime
(text and a photo), one drops offline and catches up; then one downloads their data as
a ZIP and the other deletes their account.
Screenshots go to ``var/e2e-screenshots/web/``.
"""

from __future__ import annotations

import importlib.util
import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone
from PIL import Image

from accounts.models import Block
from chat.models import Report
from privacy.models import (
    Consent,
    PolicyDocument,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
)
from tests.conftest import require_or_skip
from tests.e2e.test_admin_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

SHOTS = SCREENSHOTS / "web"


@pytest.fixture
def sms_console(e2e_env: dict[str, str]) -> dict[str, str]:
    """The worker prints codes on its terminal (its log file here), as in ``make run``."""
    e2e_env["SMS_BACKEND"] = "console"
    return e2e_env


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    has_playwright = importlib.util.find_spec("playwright") is not None
    require_or_skip(
        has_playwright and CHROMIUM.exists(),
        f"no browser for the web client e2e tests (needs playwright and {CHROMIUM})",
    )
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()
            connections.close_all()


def new_page(
    browser: Any,
    base: str,
    *,
    lang: str = "en-US",
    mobile: bool = False,
    path: str = "/",
    init_script: str | None = None,
) -> Any:
    viewport = {"width": 412, "height": 860} if mobile else {"width": 1200, "height": 860}
    context = browser.new_context(viewport=viewport, locale=lang, accept_downloads=True)
    if init_script:
        context.add_init_script(init_script)
    context.set_default_timeout(45_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.js_errors = errors
    page.goto(f"{base}{path}")
    return page


def publish_documents() -> None:
    documents = (
        ("privacy_policy", "Privacy policy"),
        ("user_agreement", "Agreement"),
        ("identity_notice", "Identity verification notice"),  # optional, separate
    )
    for kind, title in documents:
        PolicyDocument.objects.get_or_create(
            kind=kind,
            version="1.0",
            defaults={"title": title, "body": f"{title} text.", "published_at": timezone.now()},
        )


def code_from_console(log: Path, last4: str, seen: set[str]) -> str:
    """The newest code the console backend printed for the number ending in ``last4``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        codes = re.findall(rf"\[sms:\w+\] to \+\S+ \S*{last4}: .*?(\d{{6}})", text)
        fresh = [c for c in codes if c not in seen]
        if fresh:
            code: str = fresh[-1]
            seen.add(code)
            return code
        time.sleep(0.2)
    raise AssertionError("no code printed by the console SMS backend:\n" + log.read_text()[-3000:])


def wait_or_explain(page: Any, selector: str, log: Path | None, timeout: int = 45_000) -> None:
    """Wait for ``selector``; on timeout fail with what the page and the worker showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(selector, timeout=timeout)
    except PlaywrightTimeout:
        page.screenshot(path=str(SHOTS / "failure.png"), full_page=True)
        worker = log.read_text(errors="replace")[-2000:] if log else ""
        server = (log.parent / "asgi.log").read_text(errors="replace")[-2000:] if log else ""
        pytest.fail(
            f"{selector} not shown; errors {page.js_errors}\npage: {page.inner_text('#main')}"
            f"\nworker: {worker}\nserver: {server}"
        )


def sign_up(page: Any, phone: str, log: Path, seen: set[str], nickname: str) -> None:
    page.click("text=Sign up")
    page.wait_for_selector("#signup-form")
    page.fill("#phone", phone)
    page.fill("#dob", "1995-05-17")
    page.check("#adult")
    page.check("#accept")
    page.click("#signup-form button[type=submit]")
    wait_or_explain(page, "#code-form", log)
    assert page.is_visible("#dev-sms-hint")  # the page says where the code is printed
    page.fill("#code", code_from_console(log, phone[-4:], seen))
    page.click("#code-submit")
    page.wait_for_selector("#conversations")
    page.click("#nav >> text=Profile")
    page.wait_for_selector("#profile-form")
    page.fill("#nickname", nickname)
    page.click("#profile-save")
    page.wait_for_selector(f"#public-card >> text={nickname}")


def png(path: Path) -> Path:
    image = Image.new("RGB", (64, 48), (224, 71, 91))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_two_people_sign_up_chat_in_realtime_and_catch_up_after_going_offline(
    sms_console: dict[str, str],
    celery_worker: Any,
    asgi_server: str,
    browser: Any,
    tmp_path: Path,
) -> None:
    publish_documents()
    log = tmp_path / "worker.log"
    seen: set[str] = set()
    SHOTS.mkdir(parents=True, exist_ok=True)
    ana = new_page(browser, asgi_server)
    bo = new_page(browser, asgi_server, lang="zh-CN", mobile=True)
    assert bo.locator("html").get_attribute("lang") == "zh-Hans"  # follows the browser
    bo.select_option("#lang", "en")  # and is switchable

    sign_up(ana, "13800138001", log, seen, "Ana")
    sign_up(bo, "13800138002", log, seen, "Bo")
    # Sign-up accepts the two required documents, never the optional identity notice.
    assert set(Consent.objects.values_list("kind", flat=True)) == {
        "privacy_policy",
        "user_agreement",
    }

    # Bo looks at his chats; Ana starts a chat with Bo, found among the people the API
    # shows her.
    bo.click("#nav >> text=Chats")
    bo.wait_for_selector("#conversations")
    bo.wait_for_selector("body[data-socket=open]")
    ana.click("#nav >> text=Chats")
    ana.click("#new-conversation")
    ana.click("li.person:has-text('Bo') .message-person")
    ana.wait_for_selector("#chat")
    ana.fill("#composer-text", "Hello Bo!")
    ana.click("#send")
    # They have not matched: for Bo it is a message request, and Ana sees it pending.
    ana.wait_for_selector("#request-pending")

    # Bo sees the request (sender and preview) arrive live, accepts it; then the
    # conversation is in his list with its unread count, he opens it: the text is there.
    # The request shows the sender's card (their age here: no photo yet).
    bo.wait_for_selector("#message-requests li.msg-request:has-text('Ana') >> text=Hello Bo!")
    bo.wait_for_selector("li.msg-request:has-text('Ana') .sender-card .sender-meta:not(:empty)")
    bo.click("li.msg-request:has-text('Ana') .accept-request")
    bo.wait_for_selector("#message-requests", state="detached")
    bo.wait_for_selector("a.conv:has-text('Ana') .badge")
    bo.click("a.conv:has-text('Ana')")
    bo.wait_for_selector("li.msg.theirs >> text=Hello Bo!")
    # Ana sees her message read (Bo's read receipt, live).
    ana.wait_for_selector("li.msg.mine .receipt.read")

    # Typing is relayed; a photo is delivered in realtime.
    bo.type("#composer-text", "Hi")
    ana.wait_for_selector("#typing >> text=Bo is typing")
    bo.fill("#composer-text", "")
    bo.set_input_files("#attach", str(png(tmp_path / "sunset.png")))
    wait_or_explain(ana, "li.msg.theirs img.photo", log, timeout=90_000)
    bo.wait_for_selector("li.msg.mine img.photo")

    # A voice and a video message recorded in the browser (MediaRecorder; Chromium's fake
    # microphone and camera), processed by the worker, arrive as players.
    for button, player in (("#record", "audio"), ("#record-video", "video")):
        bo.click(button)
        bo.wait_for_selector(f"{button}.recording")
        time.sleep(1.5)
        bo.click(button)
        wait_or_explain(ana, f"li.msg.theirs {player}", log, timeout=90_000)
    bo.screenshot(path=str(SHOTS / "chat-mobile.png"))

    # Bo loses the network; Ana writes twice; Bo gets both once back online (sync).
    bo.context.set_offline(True)
    bo.wait_for_selector("body.offline .offline-note")
    ana.fill("#composer-text", "Are you there?")
    ana.click("#send")
    ana.fill("#composer-text", "Second while you were away")
    ana.click("#send")
    ana.wait_for_selector("li.msg.mine:has-text('Second while you were away'):not(.pending)")
    time.sleep(1)
    assert bo.locator("text=Are you there?").count() == 0
    bo.context.set_offline(False)
    bo.wait_for_selector("li.msg.theirs >> text=Are you there?")
    bo.wait_for_selector("li.msg.theirs >> text=Second while you were away")
    assert bo.locator("li.msg.theirs >> text=Are you there?").count() == 1  # no duplicates
    ana.wait_for_selector("li.msg.mine:has-text('Second while you were away') .receipt.read")
    ana.screenshot(path=str(SHOTS / "chat.png"))

    # Edit and recall reach the other side live.
    ana.once("dialog", lambda dialog: dialog.accept("Hello Bo, edited"))
    ana.click("li.msg.mine:has-text('Hello Bo!') >> text=Edit")
    bo.wait_for_selector("li.msg.theirs:has-text('Hello Bo, edited') >> text=edited")
    bo.once("dialog", lambda dialog: dialog.accept())
    bo.click("li.msg.mine:has(img.photo) >> text=Recall")
    ana.wait_for_selector("li.msg.theirs >> text=Message recalled")

    # Report and block from the conversation's menu.
    ana.click("summary:has-text('More')")
    ana.click("text=Report this person")
    ana.select_option("#report-reason", "spam")
    ana.click("dialog button[value=send]")
    ana.wait_for_selector("text=A moderator will look at it")
    assert Report.objects.filter(reason="spam", reported_user__nickname="Bo").count() == 1
    ana.once("dialog", lambda dialog: dialog.accept())
    ana.click("#block")
    ana.wait_for_selector("#banner >> text=Blocked.")
    assert Block.objects.filter(blocker__nickname="Ana", blocked__nickname="Bo").count() == 1
    ana.click("#nav >> text=Profile")
    ana.click("#blocked >> text=Unblock")
    ana.wait_for_selector("#blocked >> text=You have not blocked anyone.")

    # Ana downloads her data: request, identity code if asked, progress, ZIP.
    ana.click("#nav >> text=Privacy")
    ana.click("#request-export")
    ana.wait_for_selector("#identity-dialog, li.request[data-kind=access]")
    if ana.is_visible("#identity-dialog"):
        ana.fill("#identity-code", code_from_console(log, "8001", seen))
        ana.click("#identity-submit")
    wait_or_explain(ana, "#download-export", log, timeout=90_000)
    ana.screenshot(path=str(SHOTS / "privacy-centre.png"), full_page=True)
    with ana.expect_download() as download_info:
        ana.click("#download-export")
    archive = zipfile.ZipFile(download_info.value.path())
    names = archive.namelist()
    assert "messages.json" in names
    assert "profile.json" in names
    assert "Hello Bo, edited" in archive.read("messages.json").decode()

    # A material new policy version: at the next log-in Ana is asked to accept it first.
    PolicyDocument.objects.create(
        kind="privacy_policy",
        version="2.0",
        title="Privacy policy",
        body="New text.",
        material_change=True,
        published_at=timezone.now(),
    )
    ana.click("#logout")
    ana.wait_for_selector("#login-form")
    # A request sent just before logging out (the privacy centre's poll) can come back
    # after it with "re-consent needed"; signed out, that answer must not take the login
    # screen away (it used to bounce between the login and consent screens for ever).
    stale = {"errors": [{"code": "reconsent_required", "message": "stale"}]}
    ana.route("**/api/v1/me", lambda route: route.fulfill(status=403, json=stale))
    ana.evaluate(
        """async () => {
            const src = document.querySelector('script[type=module]').src;
            const { api } = await import(new URL('./api.js', src).href);
            await api('GET', 'me').catch(() => {});
        }"""
    )
    ana.unroute("**/api/v1/me")
    ana.wait_for_timeout(300)
    assert ana.evaluate("location.hash") == "#/login"
    ana.fill("#phone", "+86 138 0013 8001")
    ana.click("#login-form button[type=submit]")
    ana.wait_for_selector("#code-form")
    ana.fill("#code", code_from_console(log, "8001", seen))
    ana.click("#code-submit")
    wait_or_explain(ana, "#consent-form", log)
    assert "2.0" in ana.inner_text("#consent-form")
    assert "Identity" not in ana.inner_text("#consent-form")
    ana.check("#accept")
    ana.click("#consent-form button[type=submit]")
    ana.wait_for_selector("#conversations")
    assert not Consent.objects.filter(kind="identity_notice").exists()

    # Bo deletes the account: confirmed with a code, logged out, told how to cancel.
    bo.click("#nav >> text=Privacy")
    bo.once("dialog", lambda dialog: dialog.accept())
    bo.click("#delete-account")
    bo.wait_for_selector("#identity-dialog, #deleted")
    if bo.is_visible("#identity-dialog"):
        bo.fill("#identity-code", code_from_console(log, "8002", seen))
        bo.click("#identity-submit")
    bo.wait_for_selector("#deleted")
    assert bo.evaluate("localStorage.getItem('meetnow.session_token')") is None
    bo.goto(f"{asgi_server}/#/chat")
    bo.wait_for_selector("#login-form")
    erasure = PrivacyRequest.objects.get(kind=RequestKind.ERASURE)
    assert erasure.status == RequestStatus.SCHEDULED

    # Changed their mind: logging in during the cooling-off cancels the deletion.
    bo.fill("#phone", "13800138002")
    bo.click("#login-form button[type=submit]")
    bo.wait_for_selector("#code-form")
    bo.fill("#code", code_from_console(log, "8002", seen))
    bo.click("#code-submit")
    wait_or_explain(bo, "#consent-form", log)  # policy 2.0 came out meanwhile
    bo.check("#accept")
    bo.click("#consent-form button[type=submit]")
    wait_or_explain(bo, "#conversations", log)
    erasure.refresh_from_db()
    assert erasure.status == RequestStatus.CANCELED

    assert ana.js_errors == []
    assert bo.js_errors == []


def signed_in_page(browser: Any, base: str, user: Any, hash_route: str) -> Any:
    """A page that already holds an app session token (sign-up is tested above)."""
    from tests.helpers import session_token_for

    token = session_token_for(user)
    return new_page(
        browser,
        base,
        path=f"/{hash_route}",
        init_script=f"localStorage.setItem('meetnow.session_token', '{token}');",
    )


def test_a_video_call_between_two_browsers_connects_and_hangs_up(
    asgi_server: str, browser: Any
) -> None:
    from tests.factories.chat import make_direct, make_user

    ana, bo = make_user("Ana"), make_user("Bo")
    conversation = make_direct(ana, bo)
    route = f"#/c/{conversation.uuid}"
    caller = signed_in_page(browser, asgi_server, ana, route)
    callee = signed_in_page(browser, asgi_server, bo, route)
    for page in (caller, callee):
        wait_or_explain(page, "#chat", None)
        page.wait_for_selector("body[data-socket=open]")

    caller.click("#call-video")
    callee.wait_for_selector("#accept-call")
    assert "Ana" in callee.inner_text("#incoming")
    callee.click("#accept-call")
    # Media flows peer to peer: both connections reach "connected" (ICE over loopback).
    caller.wait_for_selector("#call-state >> text=Connected", timeout=30_000)
    callee.wait_for_selector("#call-state >> text=Connected", timeout=30_000)
    # (wait_for_function evaluates a string, which this page's CSP rightly refuses)
    tracks = "() => document.getElementById('remote-media').srcObject.getVideoTracks().length"
    assert callee.evaluate(tracks) == 1
    assert caller.evaluate(tracks) == 1
    caller.click("#hangup")
    callee.wait_for_selector("#incoming", state="hidden")
    assert caller.js_errors == []
    assert callee.js_errors == []
