"""Working-day deadlines (P13, P17): China's public-holiday calendar for CN users,
Monday to Friday for everyone else; support tickets have a deadline too."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone

from accounts.models import User
from meetnow.lib.deadlines import add_working_days
from meetnow.lib.i18n import display
from support.models import SupportTicket
from tests.admin.conftest import login_mfa_passed
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def _user(phone: str) -> User:
    return User.objects.create_user(nickname="Lin", phone=phone, phone_verified=True)


def test_cn_calendar_skips_national_day_and_counts_make_up_saturday() -> None:
    # Wednesday 30 September 2026, 10:00 in Beijing; 1-7 October are public holidays
    # and Saturday 10 October is a make-up working day.
    start = dt.datetime(2026, 9, 30, 10, tzinfo=BEIJING)
    assert add_working_days(start, 1, calendar="CN") == dt.datetime(2026, 10, 8, 10, tzinfo=BEIJING)
    assert add_working_days(start, 3, calendar="CN") == dt.datetime(
        2026, 10, 10, 10, tzinfo=BEIJING
    )
    # Monday to Friday elsewhere: Thursday 1 October is a working day.
    assert add_working_days(start, 1) == dt.datetime(2026, 10, 1, 10, tzinfo=BEIJING)
    # Beijing dates decide: 23:30 UTC on Saturday 19 September is Sunday the 20th in
    # Beijing, a make-up working day.
    late = dt.datetime(2026, 9, 18, 23, 30, tzinfo=dt.UTC)
    assert add_working_days(late, 1, calendar="CN") == dt.datetime(
        2026, 9, 19, 23, 30, tzinfo=dt.UTC
    )
    assert add_working_days(late, 1) == dt.datetime(2026, 9, 21, 23, 30, tzinfo=dt.UTC)


def test_request_deadline_follows_the_users_phone_region(settings: LazySettings) -> None:
    settings.MEETNOW_PRIVACY_SLA_DAYS_BY_KIND = {
        **settings.MEETNOW_PRIVACY_SLA_DAYS_BY_KIND,
        "rectification": 260,  # a year: it spans China's holidays whatever today is
    }
    cn = _user("+8613800138001")
    uk = _user("+447700900123")
    dues = {}
    for user, calendar in ((cn, "CN"), (uk, "")):
        response = api_client_for(user).post(
            "/api/v1/privacy/requests", {"kind": "rectification", "details": "fix my name"}
        )
        assert response.status_code == 201, response.content
        body = response.json()
        received = dt.datetime.fromisoformat(body["received_at"])
        due = dt.datetime.fromisoformat(body["due_at"])
        assert due == add_working_days(received, 260, calendar=calendar)
        dues[calendar] = due - received
    # China has more public holidays than make-up working days in any year.
    assert dues["CN"] > dues[""]


def test_support_ticket_has_a_deadline_shown_in_the_queue(
    settings: LazySettings, support_agent: User
) -> None:
    settings.MEETNOW_SUPPORT_SLA_DAYS = 3
    user = _user("+8613800138002")
    response = api_client_for(user).post("/api/v1/support/tickets", {"text": "I can't log in"})
    assert response.status_code == 201, response.content
    body = response.json()
    created = dt.datetime.fromisoformat(body["created_at"])
    assert dt.datetime.fromisoformat(body["due_at"]) == add_working_days(created, 3, calendar="CN")
    ticket = SupportTicket.objects.get(uuid=body["uuid"])

    client = login_mfa_passed(Client(), support_agent)
    page = client.get("/admin/privacy/supportticket/")
    assert page.status_code == 200
    # In the staff member's language and zone, as every date in the admin.
    assert ticket.due_at is not None
    assert display(ticket.due_at, user=support_agent) in page.content.decode()
    assert "OVERDUE" not in page.content.decode()

    SupportTicket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    page = client.get("/admin/privacy/supportticket/")
    assert "OVERDUE" in page.content.decode()

    # A follow-up after an answer starts a new deadline.
    SupportTicket.objects.filter(pk=ticket.pk).update(status="answered")
    api_client_for(user).post(f"/api/v1/support/tickets/{ticket.uuid}/replies", {"text": "still"})
    ticket.refresh_from_db()
    assert ticket.due_at is not None
    assert ticket.due_at > timezone.now()
