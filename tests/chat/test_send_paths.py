"""PostgreSQL reads the members, checks and stores a message and its events in one
statement; other databases use the ORM path. Both must leave exactly the same rows
and refuse the same sends (run against PostgreSQL in CI)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.models import Event, EventStream, Message
from tests.conftest import require_or_skip
from tests.factories.chat import make_group, make_user

pytestmark = pytest.mark.django_db


def _send_and_retry(monkeypatch: pytest.MonkeyPatch, *, one_statement: bool) -> dict[str, Any]:
    """Send into a group where one member has no event counter yet, then retry; returns
    what was stored, with database ids replaced by names."""
    monkeypatch.setattr(services.messages, "_send_in_one_statement", lambda: one_statement)
    owner, friend, newcomer = make_user("o"), make_user("f"), make_user("n")
    group = make_group(owner, friend, newcomer)
    EventStream.objects.filter(user=newcomer).delete()
    Event.objects.filter(user=newcomer).delete()
    names = {owner.pk: "o", friend.pk: "f", newcomer.pk: "n"}
    before = dict(EventStream.objects.values_list("user_id", "seq"))
    last_event = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client_id = uuid.uuid4()

    def send() -> tuple[Message, bool]:
        return services.message_send(
            sender=owner, conversation_uuid=group.uuid, client_id=client_id, text="hi ✓"
        )

    with CaptureQueriesContext(connection) as queries:
        message, created = send()
    used_one_statement = [q["sql"].split()[:2] for q in queries.captured_queries] == [
        ["WITH", "conv"]
    ]
    assert used_one_statement == one_statement

    def stored() -> dict[str, Any]:
        group.refresh_from_db()
        row = Message.objects.get(pk=message.pk)
        return {
            "message": (
                row.conversation_id == group.pk,
                names.get(row.sender_id or 0),
                row.client_id == client_id,
                row.kind,
                row.text,
                row.attachment_id,
                row.system,
                row.created_at == message.created_at,
            ),
            "activity_is_the_message": group.last_activity_at == row.created_at,
            "events": sorted(
                (
                    names[e.user_id],
                    e.seq - before.get(e.user_id, 0),
                    e.type,
                    e.payload == {"conversation": str(group.uuid), "message_id": row.pk},
                    abs((e.created_at - row.created_at).total_seconds()) < 5,
                )
                for e in Event.objects.filter(id__gt=last_event)
            ),
            "counters": sorted(
                (names[uid], seq - before.get(uid, 0), compacted)
                for uid, seq, compacted in EventStream.objects.filter(
                    user_id__in=names
                ).values_list("user_id", "seq", "compacted_through")
            ),
        }

    first = stored()
    again, created_again = send()
    assert created
    assert not created_again
    assert again.pk == message.pk
    assert stored() == first  # a retry changes nothing, not even the activity
    return first


def test_one_statement_and_orm_paths_store_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    require_or_skip(connection.vendor == "postgresql", "the one-statement path is PostgreSQL's")
    with_orm = _send_and_retry(monkeypatch, one_statement=False)
    in_one_statement = _send_and_retry(monkeypatch, one_statement=True)
    assert in_one_statement == with_orm
    assert in_one_statement == {
        "message": (True, "o", True, "text", "hi ✓", None, None, True),
        "activity_is_the_message": True,
        "events": [(name, 1, "message.created", True, True) for name in ("f", "n", "o")],
        "counters": [("f", 1, 0), ("n", 1, 0), ("o", 1, 0)],
    }


def _refusal_world(case: str, me: Any, other: Any, third: Any) -> Any:
    """The conversation ``me`` sends into, set up for ``case``."""
    from django.utils import timezone

    from accounts.models import User
    from chat.models import Conversation, Membership, RequestState
    from meetnow.lib.errors import ApplicationError
    from tests.factories.chat import make_block, make_direct, make_request

    if case == "stranger":
        return make_direct(other, third)
    if case in ("pending", "declined"):  # me is the request's recipient
        conversation = make_request(other, me)
        if case == "declined":
            Membership.objects.filter(conversation=conversation, user=me).update(
                request_state=RequestState.DECLINED, left_at=timezone.now()
            )
        return conversation
    if case == "request_cap":  # me sent a request; the cap is reached
        conversation = make_request(me, other)
        for i in range(10):
            try:
                services.message_send(
                    sender=me,
                    conversation_uuid=conversation.uuid,
                    client_id=uuid.uuid4(),
                    text=f"{i}",
                )
            except ApplicationError:
                break
        return conversation
    conversation = make_direct(me, other)
    if case == "blocked":
        make_block(other, me)
    elif case == "closed":
        Conversation.objects.filter(pk=conversation.pk).update(closed_at=timezone.now())
    elif case == "banned":
        User.objects.filter(pk=me.pk).update(banned_at=timezone.now(), is_active=False)
    return conversation


def _refusal(monkeypatch: pytest.MonkeyPatch, case: str, *, one_statement: bool) -> Any:
    """What a send in ``case`` answers and leaves behind, on one path."""
    from chat.models import Conversation
    from meetnow.lib.errors import ApplicationError

    monkeypatch.setattr(services.messages, "_send_in_one_statement", lambda: one_statement)
    me, other, third = make_user("me"), make_user("other"), make_user("third")
    conversation = _refusal_world(case, me, other, third)
    messages = Message.objects.count()
    events = Event.objects.count()
    activity = Conversation.objects.get(pk=conversation.pk).last_activity_at
    try:
        services.message_send(
            sender=me, conversation_uuid=conversation.uuid, client_id=uuid.uuid4(), text="hi"
        )
    except ApplicationError as exc:
        answer = (exc.status_code, exc.code)
    else:
        answer = (201, "sent")
    unchanged = (
        Message.objects.count() == messages
        and Event.objects.count() == events
        and Conversation.objects.get(pk=conversation.pk).last_activity_at == activity
    )
    return answer, unchanged


@pytest.mark.parametrize(
    ("case", "answer"),
    [
        ("stranger", (404, "not_found")),
        ("blocked", (403, "blocked")),
        ("closed", (403, "conversation_closed")),
        ("banned", (401, "invalid_token")),
        ("pending", (403, "request_not_accepted")),
        ("declined", (404, "not_found")),
        ("request_cap", (403, "request_limit")),
    ],
)
def test_both_paths_refuse_alike_and_store_nothing(
    monkeypatch: pytest.MonkeyPatch, case: str, answer: tuple[int, str]
) -> None:
    require_or_skip(connection.vendor == "postgresql", "the one-statement path is PostgreSQL's")
    assert _refusal(monkeypatch, case, one_statement=True) == (answer, True)
    assert _refusal(monkeypatch, case, one_statement=False) == (answer, True)
