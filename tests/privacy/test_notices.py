"""The user is told how their privacy requests and support tickets ended (P13, P17): a
notice in the in-app inbox (``/api/v1/notices``) that reads in the reader's language,
an event on the account's stream and a push; an export's notice carries its link.
A non-material policy version is pushed too (P16)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient

from accounts.models import Notice, User
from accounts.services import notice_create, notice_mark_read, staff_create, user_ban
from meetnow.lib.personal_data import ErasureContext
from privacy import retention
from privacy.lifecycle import request_approve, request_create, request_deny
from privacy.models import PolicyDocument
from privacy.registry import get_registry
from privacy.services import document_publish, policy_update_push_send
from privacy.transitions import request_complete
from support.services import support_ticket_answer, support_ticket_close, support_ticket_create
from tests.chat.fakes import Recorded, fake_fcm
from tests.factories.chat import make_device, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def fcm(settings: LazySettings, tmp_path: Path) -> Iterator[Recorded]:
    with fake_fcm(tmp_path) as (base, credentials, recorded):
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_BASE_URL = base
        settings.FCM_CREDENTIALS_FILE = str(credentials)
        yield recorded


@pytest.fixture
def staff() -> User:
    return staff_create(username="privacy-staff", password="x-long-password-1")


def _person(language: str) -> User:
    user = make_user()
    user.language = language
    user.save(update_fields=["language"])
    return user


def _pushes(recorded: Recorded, device_token: str) -> list[dict[str, Any]]:
    return [
        r["body"]["message"]
        for r in recorded.requests
        if r["body"]["message"]["token"] == device_token
    ]


def _notices(client: APIClient, **headers: Any) -> dict[str, Any]:
    response = client.get("/api/v1/notices", **headers)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _stream(client: APIClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get("/api/v1/sync", {"since": 0}).json()["events"]
    return [e for e in events if e["type"] == "notice.created"]


@pytest.mark.parametrize(
    ("language", "headers", "title", "body_start"),
    [
        ("zh-hans", ZH, "你的数据导出已准备好", "请在 "),
        ("en", EN, "Your data export is ready", "Download your data before "),
    ],
)
def test_a_finished_export_says_ready_with_its_link_in_the_users_language(
    language: str,
    headers: dict[str, str],
    title: str,
    body_start: str,
    fcm: Recorded,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = _person(language)
    phone = make_device(user)
    client = api_client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        privacy_request = request_create(user=user, kind="access", identity_confirmed=True)
    request_uuid = str(privacy_request.uuid)

    page = _notices(client, **headers)
    assert page["unread"] == 1
    [notice] = page["results"]
    assert notice["kind"] == "privacy.export_ready"
    assert notice["title"] == title
    assert notice["body"].startswith(body_start)
    assert notice["subject"] == request_uuid
    assert notice["read_at"] is None
    # The link is the export's own download link: it downloads the archive.
    link = notice["link"]
    assert link.startswith("http://testserver/api/v1/privacy/exports/")
    download = APIClient().get(link.removeprefix("http://testserver"))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    token = link.rsplit("/", 1)[1]
    assert token not in caplog.text  # never logged

    # The event on the account's stream (sync; the socket gets the same), ids only.
    [event] = _stream(client)
    assert event["notice_id"] == notice["id"]
    assert event["kind"] == "privacy.export_ready"
    # One push, the notice's id and title in the owner's language, no link.
    [push] = _pushes(fcm, phone.push_token)
    assert push["data"]["type"] == "notice"
    assert push["data"]["notice_id"] == str(notice["id"])
    assert push["notification"]["title"] == title
    assert token not in str(push)


def test_a_refusal_reads_with_its_reason_in_the_readers_language_and_is_pushed(
    staff: User,
    fcm: Recorded,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    user = _person("zh-hans")
    phone = make_device(user)
    client = api_client_for(user)
    privacy_request = request_create(
        user=user, kind="rectification", details="Wrong birth date", identity_confirmed=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        request_deny(privacy_request=privacy_request, actor=staff, reason="证件照片不清楚")

    [notice] = _notices(client, **ZH)["results"]
    assert notice["kind"] == "privacy.request_denied"
    assert notice["title"] == "你的隐私请求被拒绝"
    assert notice["body"] == "你的“更正（更正我的数据）”请求被拒绝。原因：证件照片不清楚"
    # Written when read: the same notice reads in English for an English reader.
    [english] = _notices(client, **EN)["results"]
    assert english["title"] == "Your privacy request was refused"
    assert english["body"].startswith("Your request “Rectification (correct my data)” was refused.")
    [push] = _pushes(fcm, phone.push_token)
    assert push["notification"]["title"] == "你的隐私请求被拒绝"
    assert "证件" not in str(push)  # the reason stays in the app
    assert [e["kind"] for e in _stream(client)] == ["privacy.request_denied"]


def test_a_correction_done_by_staff_and_a_cancellation_are_told(
    staff: User,
    fcm: Recorded,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    user = _person("en")
    phone = make_device(user)
    client = api_client_for(user)
    rectification = request_create(
        user=user, kind="rectification", details="Nickname", identity_confirmed=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        rectification = request_approve(privacy_request=rectification, actor=staff)
        request_complete(privacy_request=rectification, actor=staff, note="corrected")
    erasure = request_create(user=user, kind="erasure", identity_confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        canceled = client.post(f"/api/v1/privacy/requests/{erasure.uuid}/cancel")
    assert canceled.status_code == 200, canceled.content

    results = _notices(client, **EN)["results"]
    assert [(n["kind"], n["title"]) for n in results] == [
        ("privacy.request_canceled", "Your privacy request was cancelled"),
        ("privacy.request_completed", "Your privacy request is complete"),
    ]  # newest first
    assert results[0]["body"] == "Your request “Erasure (delete my account)” was cancelled."
    assert results[0]["subject"] == str(erasure.uuid)
    assert [e["kind"] for e in _stream(client)] == [
        "privacy.request_completed",
        "privacy.request_canceled",
    ]
    pushes = _pushes(fcm, phone.push_token)
    assert [p["notification"]["title"] for p in pushes] == [
        "Your privacy request is complete",
        "Your privacy request was cancelled",
    ]


@pytest.mark.parametrize(
    ("language", "headers", "answered", "closed"),
    [
        ("zh-hans", ZH, "客服已回复你的问题", "你的客服问题已关闭"),
        ("en", EN, "Support answered your request", "Your support request is closed"),
    ],
)
def test_support_answers_and_closing_are_in_the_inbox_with_one_push_each(
    language: str,
    headers: dict[str, str],
    answered: str,
    closed: str,
    staff: User,
    fcm: Recorded,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    user = _person(language)
    phone = make_device(user)
    client = api_client_for(user)
    ticket = support_ticket_create(user=user, text="How do I change my number?")
    with django_capture_on_commit_callbacks(execute=True):
        support_ticket_answer(ticket=ticket, staff=staff, text="In Settings.")
    with django_capture_on_commit_callbacks(execute=True):
        support_ticket_close(ticket=ticket)
        support_ticket_close(ticket=ticket)  # already closed: nothing more

    results = _notices(client, **headers)["results"]
    assert [(n["kind"], n["title"], n["subject"]) for n in results] == [
        ("support.ticket_closed", closed, str(ticket.uuid)),
        ("support.ticket_answered", answered, str(ticket.uuid)),
    ]
    assert [e["kind"] for e in _stream(client)] == [
        "support.ticket_answered",
        "support.ticket_closed",
    ]
    # The answer keeps its own push (the ticket's id); closing pushes the notice.
    pushes = _pushes(fcm, phone.push_token)
    assert [p["data"]["type"] for p in pushes] == ["support_reply", "notice"]
    assert pushes[1]["notification"]["title"] == closed
    assert "number" not in str(pushes)


def test_reading_marks_a_notice_and_strangers_get_404(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    user, stranger = make_user(), make_user()
    ticket = support_ticket_create(user=user, text="Hello")
    support_ticket_close(ticket=ticket)
    client = api_client_for(user)
    page = _notices(client)
    assert page["unread"] == 1
    notice_id = page["results"][0]["id"]

    other = api_client_for(stranger)
    refused = other.post(f"/api/v1/notices/{notice_id}/read")
    assert refused.status_code == 404
    assert refused.json()["errors"][0]["code"] == "not_found"
    assert _notices(other)["results"] == []
    assert client.post("/api/v1/notices/999999999/read").status_code == 404

    read = client.post(f"/api/v1/notices/{notice_id}/read")
    assert read.status_code == 200
    first_read = read.json()["read_at"]
    assert first_read is not None
    again = client.post(f"/api/v1/notices/{notice_id}/read")
    assert again.json()["read_at"] == first_read  # reading twice keeps the first time
    page = _notices(client)
    assert page["unread"] == 0
    assert page["results"][0]["read_at"] == first_read


def test_the_inbox_is_paged_newest_first_in_fixed_queries(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    user = make_user()
    client = api_client_for(user)
    ticket = support_ticket_create(user=user, text="Hello")
    for _ in range(3):
        support_ticket_close(ticket=ticket)
        ticket.status = "open"
        ticket.save(update_fields=["status"])
    _notices(client)  # warm the session
    # the user (the session is cached), the page, the unread count
    with django_assert_num_queries(3):
        small = _notices(client)
    for _ in range(30):
        support_ticket_close(ticket=ticket)
        ticket.status = "open"
        ticket.save(update_fields=["status"])
    with django_assert_num_queries(3):
        first = client.get("/api/v1/notices", {"limit": 20}).json()
    assert len(small["results"]) == 3
    assert len(first["results"]) == 20
    assert first["unread"] == 33
    ids = [n["id"] for n in first["results"]]
    assert ids == sorted(ids, reverse=True)
    rest = client.get(first["next"].removeprefix("http://testserver")).json()
    assert len(rest["results"]) == 13
    assert max(n["id"] for n in rest["results"]) < min(ids)
    bad = client.get("/api/v1/notices", {"cursor": "garbage"})
    assert bad.status_code == 400


def test_a_banned_account_reads_its_notices_with_its_rights_token(
    staff: User, settings: LazySettings, celery_eager: None
) -> None:
    from accounts.sms import backends
    from tests.privacy.test_rights_session import RIGHTS, _code_login, _consenting_user

    settings.SMS_BACKEND = "locmem"
    backends.outbox.clear()
    user = _consenting_user()
    ticket = support_ticket_create(user=user, text="Why?")
    support_ticket_answer(ticket=ticket, staff=staff, text="Because.", close=True)
    user_ban(user=user)
    status, body = _code_login(user, **RIGHTS)
    assert status == 200, body
    api = APIClient()
    api.credentials(HTTP_X_RIGHTS_TOKEN=body["data"]["rights_token"])
    page = api.get("/api/v1/notices")
    assert page.status_code == 200, page.content
    [notice] = page.json()["results"]
    assert notice["kind"] == "support.ticket_closed"
    assert api.post(f"/api/v1/notices/{notice['id']}/read").status_code == 200
    assert api.get("/api/v1/me").status_code == 403  # still restricted


def test_a_non_material_policy_version_is_pushed_once_in_each_language(
    fcm: Recorded,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    chinese, english, quiet = _person("zh-hans"), _person("en"), _person("en")
    zh_phone, en_phone = make_device(chinese), make_device(english)
    quiet.push_enabled = False
    quiet.save(update_fields=["push_enabled"])
    quiet_phone = make_device(quiet)
    document = PolicyDocument.objects.create(
        kind="privacy_policy",
        version="1.5",
        title="Privacy policy 1.5",
        body="New text.",
        body_zh_hans="新文本。",
        material_change=False,
    )
    with django_capture_on_commit_callbacks(execute=True):
        document_publish(document=document)

    [zh_push] = _pushes(fcm, zh_phone.push_token)
    assert zh_push["data"] == {
        "type": "policy_updated",
        "conversation": "",
        "badge": "0",
        "document_kind": "privacy_policy",
        "version": "1.5",
    }
    assert zh_push["notification"]["title"] == "我们的隐私政策已更新"
    [en_push] = _pushes(fcm, en_phone.push_token)
    assert en_push["notification"]["title"] == "Our privacy policy was updated"
    assert _pushes(fcm, quiet_phone.push_token) == []  # push turned off (P10)
    # A redelivered batch tells nobody twice.
    assert policy_update_push_send(document_id=document.pk, user_ids=[chinese.pk]) == 0


def test_notices_go_with_the_account_and_after_their_retention() -> None:
    user, other = make_user(), make_user()
    now = timezone.now()
    old_read, old_unread, young_read, young_unread = (
        notice_create(user_id=other.pk, kind="support.ticket_closed") for _ in range(4)
    )
    Notice.objects.filter(pk=old_read.pk).update(read_at=now - dt.timedelta(days=181))
    Notice.objects.filter(pk=old_unread.pk).update(created_at=now - dt.timedelta(days=366))
    notice_mark_read(notice=young_read)
    assert retention.PURGES["notices"](now) == 2
    assert set(Notice.objects.values_list("pk", flat=True)) == {young_read.pk, young_unread.pk}
    assert old_unread.pk not in Notice.objects.values_list("pk", flat=True)
    assert retention.PURGES["notices"](now) == 0

    notice_create(user_id=user.pk, kind="support.ticket_closed")
    registry = get_registry()
    declaration = registry.declarations["accounts.Notice"]
    assert declaration.retention == "notices"
    [step] = [s for s in registry.erase_steps if s.model == "accounts.Notice"]
    step.apply(ErasureContext(user_id=user.pk), 100, None)
    assert declaration.remaining is not None
    assert declaration.remaining(user.pk) == 0
    assert Notice.objects.filter(user=other).count() == 2


def test_with_the_broker_down_the_notice_is_kept_and_its_push_waits_in_the_outbox(
    broker_down: str,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    from meetnow.models import TaskOutbox

    user = make_user()
    make_device(user)
    client = api_client_for(user)
    erasure = request_create(user=user, kind="erasure", identity_confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        canceled = client.post(f"/api/v1/privacy/requests/{erasure.uuid}/cancel")
    assert canceled.status_code == 200, canceled.content
    [notice] = _notices(client)["results"]
    assert notice["kind"] == "privacy.request_canceled"
    [(task, args)] = TaskOutbox.objects.values_list("task", "args")
    assert (task, args) == ("push.notice", [notice["id"]])


def test_signing_in_during_the_cooling_off_says_the_deletion_is_off(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    from privacy.lifecycle import erasure_cancel_by_login

    user = make_user()
    request_create(user=user, kind="erasure", identity_confirmed=True)
    user.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert erasure_cancel_by_login(user=user)
    [notice] = _notices(api_client_for(user), **ZH)["results"]
    assert notice["title"] == "你的隐私请求已取消"
    assert notice["body"] == "你在等待期内登录了，因此你的账号不会被删除。"
