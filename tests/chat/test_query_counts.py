"""Every chat list endpoint runs a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from accounts.services import staff_create
from chat import services
from chat.models import Conversation, Report
from tests.chat.conftest import admin_client_for
from tests.factories.chat import make_direct, make_group, make_user, send
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

# Per request: the user behind the session token (the session itself is in the cache),
# plus the endpoint's own queries listed with each test.
AUTH = 1


def _world(size: int) -> tuple[User, list[User], list[Conversation]]:
    me = make_user("me")
    others = [make_user() for _ in range(size)]
    conversations = [make_direct(me, other) for other in others]
    conversations.append(make_group(me, *others[:3]))
    for conversation in conversations:
        other = _other(conversation, me)
        for j in range(size):
            send(me if j % 2 else other, conversation, f"m{j}")
    return me, others, conversations


def _other(conversation: Conversation, me: User) -> User:
    membership = conversation.memberships.exclude(user=me).first()
    assert membership is not None
    return membership.user


@pytest.mark.parametrize("size", [2, 6])
def test_conversation_list(size: int, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    me, _, _ = _world(size)
    api = api_client_for(me)
    # memberships page, last message id and capped unread count of the page's rows,
    # last messages, members, pending group invitations (a page holding a group only),
    # unread total.
    with django_assert_num_queries(AUTH + 6):
        response = api.get("/api/v1/conversations")
    assert len(response.json()["results"]) == size + 1


@pytest.mark.parametrize("size", [2, 6])
def test_conversation_detail(size: int, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    me, _, conversations = _world(size)
    api = api_client_for(me)
    # access, last message id and unread count, last message, members, invitations (a
    # group).
    with django_assert_num_queries(AUTH + 5):
        response = api.get(f"/api/v1/conversations/{conversations[-1].uuid}")
    assert response.status_code == 200


@pytest.mark.parametrize("size", [2, 6])
def test_history(size: int, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    me, _, conversations = _world(size)
    api = api_client_for(me)
    # access and one page of messages with senders, in one statement (chat.history).
    with django_assert_num_queries(AUTH + 1):
        response = api.get(f"/api/v1/conversations/{conversations[0].uuid}/messages")
    assert len(response.json()["results"]) == size + 0


@pytest.mark.parametrize("size", [2, 6])
def test_sync(size: int, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    me, _, _ = _world(size)
    api = api_client_for(me)
    # counter, events, their messages.
    with django_assert_num_queries(AUTH + 3):
        response = api.get("/api/v1/sync", {"since": 0})
    assert len(response.json()["events"]) > size


@pytest.mark.parametrize("size", [2, 6])
def test_reports(size: int, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    me, others, _ = _world(size)
    for other in others:
        services.report_create(reporter=me, reason="spam", user_uuid=other.uuid)
    api = api_client_for(me)
    # page of reports with the reported users.
    with django_assert_num_queries(AUTH + 1):
        response = api.get("/api/v1/reports")
    assert len(response.json()["results"]) == size


@pytest.mark.parametrize("size", [2, 6])
def test_send_query_count(size: int, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    """The send path stays small whatever the group size (bulk event insert)."""
    me, others, _ = _world(size)
    group = make_group(me, *others)
    api = api_client_for(me)
    import uuid

    from django.db import connection

    # PostgreSQL: one statement (lock, members, checks, message, activity, event
    # numbers, events). Elsewhere: members, conversation lock/update, message insert,
    # event counters, events insert (+ savepoint pair in the test transaction).
    own = 1 if connection.vendor == "postgresql" else 5 + 2
    with django_assert_num_queries(AUTH + own):
        response = api.post(
            f"/api/v1/conversations/{group.uuid}/messages",
            {"client_id": str(uuid.uuid4()), "text": "hi"},
        )
    assert response.status_code == 201


def test_admin_report_queue_and_messages_have_fixed_query_counts() -> None:
    """Admin pages: the count is whatever the staff middleware needs plus the page's own,
    and must not grow with the number of rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = staff_create(username="mod", password="x-Very-long-pass-123", superuser=True)
    client = admin_client_for(staff)
    counts: dict[str, list[int]] = {"report": [], "message": []}
    me = make_user("me")
    for size in (2, 8):
        while Report.objects.count() < size:
            other = make_user()
            send(other, make_direct(me, other), "x")
            services.report_create(reporter=me, reason="spam", user_uuid=other.uuid)
        for model in counts:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(f"/admin/chat/{model}/")
            assert response.status_code == 200
            counts[model].append(len(ctx.captured_queries))
    assert counts["report"][0] == counts["report"][1], counts
    assert counts["message"][0] == counts["message"][1], counts
