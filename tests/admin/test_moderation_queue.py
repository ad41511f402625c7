"""The moderator queue (P8): reports with counts and context, actions with an outcome note,
the audit trail, the reporter told through the API; users searched and banned."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts.models import User
from chat.models import Report, ReportOutcome, ReportStatus
from chat.services import report_create
from media.models import MediaFile
from meetnow.lib.adminkit import audit_message
from tests.admin.conftest import login_mfa_passed
from tests.factories.chat import make_direct, send
from tests.helpers import api_client_for, session_token_for

pytestmark = pytest.mark.django_db

REPORTS = "/admin/chat/report/"


@pytest.fixture
def mod_client(client: Client, moderator: User) -> Client:
    return login_mfa_passed(client, moderator)


def reported_conversation() -> tuple[User, User, Report, list[Any]]:
    reporter = User.objects.create_user(nickname="Reporter")
    offender = User.objects.create_user(nickname="Offender", phone="+8613800138000")
    conversation = make_direct(reporter, offender)
    sent = [send(offender if i % 2 else reporter, conversation, f"line {i}") for i in range(1, 10)]
    report = report_create(reporter=reporter, reason="harassment", message_id=sent[4].pk)
    return reporter, offender, report, sent


def test_report_page_shows_the_messages_around_the_reported_one(mod_client: Client) -> None:
    _reporter, _offender, report, _sent = reported_conversation()
    page = mod_client.get(f"{REPORTS}{report.pk}/change/").content.decode()
    context = page.split("class='report-context'")[1].split("</ol>")[0]
    # Three before, the reported one (bold), three after; nothing further away.
    for i in range(2, 9):
        assert f"line {i}" in context
    assert "line 1<" not in context
    assert "line 9" not in context
    assert "font-weight:bold'>" in context.split("line 5")[0]


def test_list_has_counts_age_and_no_message_text(
    mod_client: Client, django_assert_num_queries: Any
) -> None:
    reporter = User.objects.create_user(nickname="r")
    for i in range(50):
        other = User.objects.create_user(nickname=f"o{i}")
        message = send(other, make_direct(reporter, other), f"secret text {i}")
        report_create(reporter=reporter, reason="spam" if i % 2 else "fake", message_id=message.pk)
    mod_client.get(REPORTS)

    with django_assert_num_queries(12):
        response = mod_client.get(REPORTS)
    page = response.content.decode()
    assert page.count('class="field-waiting"') == 50
    assert "secret text" not in page  # no message text in lists (P18)
    assert "Spam or scam (25)" in page  # facet counts per filter value


def test_bulk_hide_with_a_note_is_audited_and_the_reporter_sees_the_outcome(
    mod_client: Client, moderator: User
) -> None:
    reporter, _offender, report, sent = reported_conversation()
    second = report_create(reporter=reporter, reason="spam", message_id=sent[6].pk)
    response = mod_client.post(
        REPORTS,
        {
            "action": "resolve_hide_message",
            "_selected_action": [report.pk, second.pk],
            "note": "Threats are not allowed",
        },
    )
    assert response.status_code == 302
    for r in (report, second):
        r.refresh_from_db()
        assert r.status == ReportStatus.RESOLVED
        assert r.outcome == ReportOutcome.MESSAGE_HIDDEN
        assert r.moderator_note == "Threats are not allowed"
        assert r.resolved_by == moderator
    sent[4].refresh_from_db()
    assert sent[4].moderated_at is not None
    entries = LogEntry.objects.filter(user=moderator).order_by("object_id")
    assert {e.object_id for e in entries} == {str(report.pk), str(second.pk)}
    assert all(
        audit_message(e.change_message)
        == "Resolved: Message removed. Note: Threats are not allowed"
        for e in entries
    )

    mine = api_client_for(reporter).get("/api/v1/reports").json()
    outcomes = {item["uuid"]: item["outcome"] for item in mine["results"]}
    assert outcomes[str(report.uuid)] == "message_hidden"


def test_ban_from_a_report_ends_the_offenders_sessions(mod_client: Client) -> None:
    _reporter, offender, report, _sent = reported_conversation()
    token = session_token_for(offender)
    mod_client.post(REPORTS, {"action": "resolve_ban_user", "_selected_action": [report.pk]})
    offender.refresh_from_db()
    assert offender.banned_at is not None
    api = Client(HTTP_X_SESSION_TOKEN=token)
    assert api.get("/api/v1/conversations").status_code == 401


@pytest.mark.parametrize("term", ["uuid", "+8613800138000", "138 0013 8000", "Offend"])
def test_moderators_find_users_by_exact_phone_nickname_or_uuid(
    mod_client: Client, term: str
) -> None:
    _reporter, offender, _report, _sent = reported_conversation()
    query = str(offender.uuid) if term == "uuid" else term
    page = mod_client.get("/admin/accounts/user/", {"q": query}).content.decode()
    rows = page.split('id="result_list"')[1].split("<tbody>")[1]
    results = re.sub(r'href="[^"]*"', "", rows)  # links carry the search term back
    assert str(offender.uuid) in results
    assert "13800138000" not in results  # masked for moderators
    assert "+86 138****8000" in results


def test_a_partial_number_finds_nobody(mod_client: Client) -> None:
    _reporter, offender, _report, _sent = reported_conversation()
    page = mod_client.get("/admin/accounts/user/", {"q": "0013"}).content.decode()
    assert str(offender.uuid) not in page


def test_ban_and_unban_from_the_users_list_are_audited(mod_client: Client, moderator: User) -> None:
    _reporter, offender, _report, _sent = reported_conversation()
    mod_client.post("/admin/accounts/user/", {"action": "ban", "_selected_action": [offender.pk]})
    offender.refresh_from_db()
    assert offender.banned_at is not None
    mod_client.post("/admin/accounts/user/", {"action": "unban", "_selected_action": [offender.pk]})
    offender.refresh_from_db()
    assert offender.banned_at is None
    messages = list(
        LogEntry.objects.filter(user=moderator, object_id=str(offender.pk))
        .order_by("id")
        .values_list("change_message", flat=True)
    )
    assert [audit_message(m) for m in messages] == ["Banned (sessions ended).", "Ban lifted."]


def test_hiding_a_message_from_the_messages_list_is_audited(
    mod_client: Client, moderator: User
) -> None:
    _reporter, _offender, _report, sent = reported_conversation()
    mod_client.post("/admin/chat/message/", {"action": "hide", "_selected_action": [sent[2].pk]})
    sent[2].refresh_from_db()
    assert sent[2].moderated_at is not None
    entry = LogEntry.objects.get(user=moderator, object_id=str(sent[2].pk))
    assert audit_message(entry.change_message) == "Removed for everyone."


def test_taking_a_file_down_is_audited(mod_client: Client, moderator: User) -> None:
    owner = User.objects.create_user(nickname="uploader")
    media_file = MediaFile.objects.create(
        owner=owner,
        purpose="avatar",
        kind="image",
        sniffed_type="image/jpeg",
        size=1,
        status="ready",
        variants={},
    )
    mod_client.post(
        "/admin/media/mediafile/", {"action": "take_down", "_selected_action": [media_file.pk]}
    )
    media_file.refresh_from_db()
    assert media_file.status == "removed_by_moderator"
    entry = LogEntry.objects.get(user=moderator, object_id=str(media_file.pk))
    assert audit_message(entry.change_message) == "Taken down."


@pytest.mark.parametrize(
    "page", ["/admin/accounts/user/", "/admin/chat/message/", "/admin/media/mediafile/"]
)
def test_busy_lists_cost_the_same_with_50_rows(
    mod_client: Client, page: str, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for target in (5, 50):
        while User.objects.filter(nickname__startswith="row").count() < target:
            n = User.objects.filter(nickname__startswith="row").count()
            a = User.objects.create_user(nickname=f"row{n}a")
            send(a, make_direct(a, User.objects.create_user(nickname=f"peer{n}")), "hello")
            MediaFile.objects.create(
                owner=a, purpose="avatar", kind="image", sniffed_type="image/jpeg", size=1
            )
        mod_client.get(page)
        with CaptureQueriesContext(connection) as ctx:
            assert mod_client.get(page).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(12):
        mod_client.get(page)
