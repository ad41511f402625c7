"""The public support form (issue 19, P17): a person without an account, or who lost
the number, opens a ticket; limited per IP, per contact and by size; staff see it in
the queue with its deadline; the retention rule deletes it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from meetnow.lib.deadlines import add_working_days
from meetnow.lib.i18n import display
from privacy import retention
from privacy.selectors import documents_current
from privacy.services import consent_record
from support.models import SupportTicket, TicketStatus
from support.services import support_ticket_answer, support_ticket_close
from tests.admin.conftest import login_mfa_passed
from tests.factories.chat import make_user
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/support/public-tickets"


def _post(data: Any, *, ip: str = "198.51.100.7", **headers: str) -> Any:
    extra: dict[str, Any] = {"REMOTE_ADDR": ip, **headers}
    return APIClient().post(URL, data, format="json", **extra)


def _form(**overrides: Any) -> dict[str, Any]:
    return {
        "topic": "lost_number",
        "phone": "138 0013 8000",
        "text": "I lost my SIM card and can't log in any more.",
        **overrides,
    }


def _assert_error(response: Any, status: int, code: str, param: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == status
    assert body["errors"][0]["code"] == code
    if param is not None:
        assert body["errors"][0]["param"] == param


def test_anyone_opens_a_ticket_and_gets_only_a_reference(settings: Any) -> None:
    settings.MEETNOW_SUPPORT_SLA_DAYS = 3
    other = User.objects.create_user(nickname="Other", phone="+8613900139000")
    SupportTicket.objects.create(user=other, text="someone else's question")

    response = _post(_form(contact=" me@example.com "))

    assert response.status_code == 201, response.content
    assert set(response.json()) == {"reference"}
    ticket = SupportTicket.objects.get(uuid=response.json()["reference"])
    assert ticket.user is None
    assert ticket.topic == "lost_number"
    assert ticket.contact_phone == "+8613800138000"  # normalised to E.164
    assert ticket.contact == "me@example.com"
    assert ticket.status == TicketStatus.OPEN
    # The deadline counts working days of the contact number's calendar (CN).
    assert ticket.due_at == add_working_days(ticket.created_at, 3, calendar="CN")
    # Nothing of the form reads or reveals accounts or other tickets.
    assert "someone else" not in response.content.decode()
    # A contact without a phone number is enough; so is a number alone.
    assert _post(_form(phone="", contact="wechat: lin_1990"), ip="198.51.100.8").status_code == 201
    assert _post(_form(topic="other", phone="+33612345678"), ip="198.51.100.9").status_code == 201


def test_a_session_token_does_not_turn_it_into_an_app_ticket() -> None:
    response = _post(_form(), HTTP_X_SESSION_TOKEN="not-a-token")
    assert response.status_code == 201, response.content
    assert SupportTicket.objects.get().user is None


def test_bad_phone_missing_contact_and_bad_topic_are_400() -> None:
    _assert_error(_post(_form(phone="12345")), 400, "invalid_phone", "phone")
    _assert_error(_post(_form(phone="", contact="  ")), 400, "contact_required", "phone")
    _assert_error(_post(_form(topic="refund")), 400, "invalid_choice", "topic")
    _assert_error(_post(_form(text="   ")), 400, "blank", "text")
    assert SupportTicket.objects.count() == 0


def test_oversize_text_is_400_and_an_oversize_body_413_in_the_error_shape(
    settings: Any,
) -> None:
    _assert_error(_post(_form(text="x" * 4001)), 400, "max_length", "text")
    _assert_error(_post(_form(contact="c" * 201)), 400, "max_length", "contact")
    body = json.dumps(_form(text="字" * 3000, contact="c" * 200))
    assert len(body.encode()) > settings.MEETNOW_SUPPORT_PUBLIC_BODY_MAX
    response = APIClient().generic(
        "POST", URL, body, content_type="application/json", REMOTE_ADDR="198.51.100.7"
    )
    _assert_error(response, 413, "request_too_large")
    assert SupportTicket.objects.count() == 0


def test_the_ip_limit_answers_429_and_a_forged_forwarded_for_does_not_reset_it() -> None:
    for n in range(5):  # MEETNOW_THROTTLE_SUPPORT_PUBLIC: 5/hour per IP
        response = _post(_form(phone="", contact=f"person{n}@example.com"))
        assert response.status_code == 201, response.content
    _assert_error(_post(_form(phone="", contact="six@example.com")), 429, "rate_limited")
    forged = _post(
        _form(phone="", contact="seven@example.com"), HTTP_X_FORWARDED_FOR="203.0.113.99"
    )
    _assert_error(forged, 429, "rate_limited")
    # Another client is not affected.
    assert (
        _post(_form(phone="", contact="eight@example.com"), ip="198.51.100.200").status_code == 201
    )
    assert SupportTicket.objects.count() == 6


def test_the_contact_limit_counts_one_number_however_it_is_written() -> None:
    for n, phone in enumerate(("138 0013 8000", "+86 138 0013 8000", "008613800138000")):
        assert _post(_form(phone=phone), ip=f"198.51.100.{n + 1}").status_code == 201
    _assert_error(_post(_form(phone="13800138000"), ip="198.51.100.50"), 429, "rate_limited")
    assert SupportTicket.objects.count() == 3


def test_staff_see_it_in_the_queue_with_its_deadline_and_reveal_the_contact(
    client: Client, support_agent: User, push: Any
) -> None:
    reference = _post(_form(contact="me@example.com")).json()["reference"]
    ticket = SupportTicket.objects.get(uuid=reference)
    login_mfa_passed(client, support_agent)

    page = client.get("/admin/privacy/supportticket/", {"q": reference}).content.decode()
    assert reference in page
    assert "public form" in page
    assert ticket.due_at is not None
    # In the staff member's language and zone, as every date in the admin.
    assert display(ticket.due_at, user=support_agent) in page
    detail = client.get(f"/admin/privacy/supportticket/{ticket.pk}/change/").content.decode()
    assert "I lost my SIM card" in detail
    assert "+86 138****8000" in detail
    assert "13800138000" not in detail
    assert "me@example.com" not in detail

    revealed = client.post(
        f"/admin/privacy/supportticket/{ticket.pk}/reveal/",
        {"field": "contact", "reason": "calling the person back about their ticket"},
    )
    assert "me@example.com" in revealed.content.decode()

    # Staff answer and close it; nobody's phone is pushed.
    response = client.post(
        f"/admin/privacy/supportticket/{ticket.pk}/change/",
        {"answer": "We called you back.", "close_ticket": "on", "_save": "1"},
    )
    assert response.status_code == 302, response.content[:2000]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert push.sent == []


@pytest.fixture
def push(monkeypatch: pytest.MonkeyPatch) -> Any:
    from chat import push as chat_push
    from tests.admin.test_support_tickets import FakePush

    fake = FakePush()
    monkeypatch.setattr(chat_push, "push_backend", lambda: fake)
    return fake


def test_retention_deletes_public_tickets_closed_or_idle_past_the_period(
    settings: Any, support_agent: User
) -> None:
    days = settings.MEETNOW_RETENTION_DAYS["support_tickets"]
    now = timezone.now()
    past = now - dt.timedelta(days=days + 1)
    recent = now - dt.timedelta(days=days - 1)
    refs = [
        _post(_form(phone="", contact=f"p{n}@example.com"), ip=f"198.51.100.{n + 1}").json()[
            "reference"
        ]
        for n in range(4)
    ]
    closed_long_ago, idle_long, closed_recently, idle_recently = (
        SupportTicket.objects.get(uuid=r) for r in refs
    )
    support_ticket_answer(ticket=closed_long_ago, staff=support_agent, text="done", close=True)
    support_ticket_close(ticket=closed_recently)
    SupportTicket.objects.filter(pk=closed_long_ago.pk).update(closed_at=past, updated_at=past)
    SupportTicket.objects.filter(pk=idle_long.pk).update(updated_at=past)
    SupportTicket.objects.filter(pk=closed_recently.pk).update(closed_at=recent, updated_at=recent)
    SupportTicket.objects.filter(pk=idle_recently.pk).update(updated_at=recent)
    # An account's open ticket stays while open, however old.
    user = User.objects.create_user(nickname="Lin", phone="+8613700137000")
    app_ticket = SupportTicket.objects.create(user=user, text="old but open", updated_at=past)

    retention.retention_purge(now=now)

    left = set(SupportTicket.objects.values_list("pk", flat=True))
    assert left == {closed_recently.pk, idle_recently.pk, app_ticket.pk}


def test_someone_who_withdrew_consent_still_reaches_support_through_the_form() -> None:
    user = make_user("Lin")
    consent_record(user=user, documents=documents_current().values(), ip_address="203.0.113.1")
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=session_token_for(user))
    withdrawn = client.post("/api/v1/privacy/consents", {"action": "withdraw"}, format="json")
    assert withdrawn.status_code == 200
    assert client.post("/api/v1/support/tickets", {"text": "hi"}).status_code == 403

    response = client.post(URL, _form(topic="privacy_request"), format="json")

    assert response.status_code == 201, response.content
    # The form reads no session: the ticket is not linked to the account.
    assert SupportTicket.objects.get(uuid=response.json()["reference"]).user is None
