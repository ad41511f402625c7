"""Support tickets (P17): the app opens them with pictures, support answers in the admin,
the answer reaches the app (API + push); tickets are exported and erased (P13)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts.models import Device, User
from chat import push as chat_push
from media.models import MediaFile
from meetnow.lib.adminkit import audit_message
from meetnow.lib.personal_data import ErasureContext
from privacy.registry import get_registry
from support import services as support_services
from support.models import SupportReply, SupportTicket, TicketStatus
from support.services import support_ticket_create
from tests.admin.conftest import login_mfa_passed
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

VARIANTS = {
    "original": {"key": "f/x/original.jpg", "content_type": "image/jpeg", "size": 10},
    "256": {"key": "f/x/256.jpg", "content_type": "image/jpeg", "size": 5},
}


def picture(owner: User, purpose: str = "support") -> MediaFile:
    """A processed picture (rows only: these tests never read the stored bytes)."""
    return MediaFile.objects.create(
        owner=owner,
        purpose=purpose,
        kind="image",
        sniffed_type="image/jpeg",
        size=15,
        status="ready",
        variants=VARIANTS,
    )


@pytest.fixture
def app_user(db: None) -> User:
    return User.objects.create_user(nickname="Lin", phone="+8613800138000", phone_verified=True)


class FakePush:
    def __init__(self) -> None:
        self.sent: list[tuple[int, Any]] = []

    def send(self, device: Device, note: Any) -> bool:
        self.sent.append((device.pk, note))
        return True


@pytest.fixture
def push(monkeypatch: pytest.MonkeyPatch) -> FakePush:
    fake = FakePush()
    monkeypatch.setattr(chat_push, "push_backend", lambda: fake)
    return fake


def test_app_opens_a_ticket_with_pictures_and_reads_it(app_user: User) -> None:
    api = api_client_for(app_user)
    pics = [picture(app_user) for _ in range(2)]
    response = api.post(
        "/api/v1/support/tickets",
        {"text": "  I can't upload my avatar  ", "pictures": [str(p.uuid) for p in pics]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["text"] == "I can't upload my avatar"
    assert body["status"] == "open"
    assert [p["uuid"] for p in body["pictures"]] == [str(p.uuid) for p in pics]
    assert body["pictures"][0]["urls"]["256"]
    assert body["replies"] == []
    for p in pics:
        p.refresh_from_db()
        assert p.attached_at is not None

    listing = api.get("/api/v1/support/tickets").json()
    assert [t["uuid"] for t in listing["results"]] == [body["uuid"]]


@pytest.mark.parametrize(
    ("pictures", "code"),
    [
        ("six", "max_length"),
        ("someone_else", "media_not_found"),
        ("wrong_purpose", "media_not_found"),
    ],
)
def test_pictures_are_the_users_own_support_uploads_at_most_five(
    app_user: User, pictures: str, code: str
) -> None:
    other = User.objects.create_user(nickname="other")
    uuids = {
        "six": [str(picture(app_user).uuid) for _ in range(6)],
        "someone_else": [str(picture(other).uuid)],
        "wrong_purpose": [str(picture(app_user, purpose="chat").uuid)],
    }[pictures]
    response = api_client_for(app_user).post(
        "/api/v1/support/tickets", {"text": "help", "pictures": uuids}
    )
    assert response.status_code == 400
    assert code in response.content.decode()
    assert not SupportTicket.objects.exists()


def test_a_ticket_of_someone_else_is_not_found(app_user: User) -> None:
    ticket = support_ticket_create(user=app_user, text="mine")
    other = User.objects.create_user(nickname="other")
    assert api_client_for(other).get(f"/api/v1/support/tickets/{ticket.uuid}").status_code == 404
    assert api_client_for(other).get("/api/v1/support/tickets/not-a-uuid").status_code == 404


def test_support_answers_in_the_admin_and_the_app_gets_it(
    client: Client,
    support_agent: User,
    app_user: User,
    push: FakePush,
    django_capture_on_commit_callbacks: Any,
    celery_eager: None,
) -> None:
    Device.objects.create(user=app_user, device_id="d1", platform="ios", push_token="tok")
    ticket = support_ticket_create(user=app_user, text="My photo was removed, why?")
    login_mfa_passed(client, support_agent)

    page = client.get(f"/admin/privacy/supportticket/{ticket.pk}/change/")
    assert page.status_code == 200
    assert "My photo was removed, why?" in page.content.decode()
    assert "13800138000" not in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/privacy/supportticket/{ticket.pk}/change/",
            {"answer": "It showed another person; upload one of yourself.", "_save": "1"},
        )
    assert response.status_code == 302, response.content[:2000]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED
    reply = SupportReply.objects.get(ticket=ticket)
    assert reply.author == support_agent
    assert reply.from_staff
    [(_device_id, note)] = push.sent
    assert note.kind == "support_reply"
    assert note.data["ticket"] == str(ticket.uuid)
    assert "another person" not in (note.body or "")  # the push carries no answer text
    entry = LogEntry.objects.get(object_id=str(ticket.pk))
    assert audit_message(entry.change_message) == "Answered the ticket."

    api = api_client_for(app_user)
    assert api.get("/api/v1/support/tickets").json()["results"][0]["unread_replies"] == 1
    detail = api.get(f"/api/v1/support/tickets/{ticket.uuid}").json()
    assert detail["replies"][0]["from"] == "support"
    assert detail["replies"][0]["text"] == "It showed another person; upload one of yourself."
    reply.refresh_from_db()
    assert reply.read_at is not None
    assert api.get("/api/v1/support/tickets").json()["results"][0]["unread_replies"] == 0

    follow_up = api.post(f"/api/v1/support/tickets/{ticket.uuid}/replies", {"text": "Done, thanks"})
    assert follow_up.status_code == 201
    assert follow_up.json()["status"] == "open"
    assert [r["from"] for r in follow_up.json()["replies"]] == ["support", "me"]


def test_support_queue_lists_50_tickets_in_fixed_queries(
    client: Client, support_agent: User, django_assert_num_queries: Any
) -> None:
    users = [User.objects.create_user(nickname=f"u{i}") for i in range(10)]
    for i in range(50):
        ticket = support_ticket_create(
            user=users[i % 10], text=f"question {i}", picture_uuids=[picture(users[i % 10]).uuid]
        )
        if i % 3 == 0:
            support_services.support_ticket_answer(ticket=ticket, staff=support_agent, text="ok")
    login_mfa_passed(client, support_agent)
    client.get("/admin/privacy/supportticket/")

    # user + permissions (2), count, rows with users and counts, date hierarchy (2)
    with django_assert_num_queries(7):
        response = client.get("/admin/privacy/supportticket/")
    page = response.content.decode()
    assert page.count('class="field-status"') == 50
    # Waiting tickets come first.
    statuses = [s for s in ("Waiting for support", "Answered") if s in page]
    assert page.index("Waiting for support") < page.index("Answered")
    assert statuses


def test_moderators_do_not_see_tickets(client: Client, moderator: User, app_user: User) -> None:
    ticket = support_ticket_create(user=app_user, text="private")
    login_mfa_passed(client, moderator)
    assert client.get(f"/admin/privacy/supportticket/{ticket.pk}/change/").status_code == 403


def test_tickets_are_exported_and_erased(app_user: User, support_agent: User) -> None:
    ticket = support_ticket_create(
        user=app_user, text="export me", picture_uuids=[picture(app_user).uuid]
    )
    support_services.support_ticket_answer(ticket=ticket, staff=support_agent, text="answer")
    registry = get_registry()
    for model in ("privacy.SupportTicket", "privacy.SupportTicketPicture", "privacy.SupportReply"):
        assert model in registry.declarations
    section = next(s for s in registry.export_sections if s.name == "support_tickets")
    [(_pk, row)] = section.rows(app_user.pk, 0, 10)
    assert row["text"] == "export me"
    assert [r["from"] for r in row["replies"]] == ["support"]

    keys = [(s.model, s.action) for s in registry.erase_steps]
    assert keys.index(("privacy.SupportTicket", "delete")) < keys.index(("accounts.User", "delete"))

    ctx = ErasureContext(user_id=app_user.pk)
    for step in registry.erase_steps:
        if step.model.startswith("privacy.Support"):
            while step.apply(ctx, 100, None):
                pass
    for model in ("privacy.SupportTicket", "privacy.SupportTicketPicture", "privacy.SupportReply"):
        remaining = registry.declarations[model].remaining
        assert remaining is not None
        assert remaining(app_user.pk) == 0


def test_dashboard_shows_waiting_tickets_to_support(
    client: Client, support_agent: User, app_user: User
) -> None:
    support_ticket_create(user=app_user, text="one")
    support_ticket_create(user=app_user, text="two")
    login_mfa_passed(client, support_agent)
    page = client.get("/admin/").content.decode()
    assert "Support tickets waiting" in page
    row = page.split("Support tickets waiting")[1].split("</tr>")[0]
    assert ">2</td>" in row
