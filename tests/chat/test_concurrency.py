"""Races that the database constraints must settle (run against PostgreSQL in CI).

Threads, each with its own database connection, start together at a barrier.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from chat import services
from chat.models import Conversation, Event, Message
from tests.conftest import require_or_skip
from tests.factories.chat import make_direct, make_request, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _race(work: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture(params=["one statement", "orm"])
def send_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a send is stored (PostgreSQL uses one statement, others the ORM)."""
    if request.param == "one statement":
        require_or_skip(connection.vendor == "postgresql", "the one-statement path is PostgreSQL's")
    monkeypatch.setattr(services.messages, "_send_in_one_statement", lambda: request.param != "orm")
    return str(request.param)


def test_concurrent_retries_of_one_send_store_one_message(send_path: str) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    client_id = uuid.uuid4()

    results = _race(
        lambda: services.message_send(
            sender=alice, conversation_uuid=conversation.uuid, client_id=client_id, text="once"
        )
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    ids = {message.id for message, _ in results}
    assert len(ids) == 1
    assert sum(1 for _, created in results if created) == 1
    assert Message.objects.filter(sender=alice, client_id=client_id).count() == 1
    # One message.created event per member, not one per attempt.
    created_events = Event.objects.filter(type="message.created", payload__message_id=ids.pop())
    assert created_events.count() == 2


def test_concurrent_direct_creates_make_one_conversation() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    results = _race(
        lambda: services.conversation_get_or_create_direct(user=alice, other_uuid=bob.uuid)
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert len({conversation.pk for conversation, _ in results}) == 1
    assert Conversation.objects.filter(kind="direct").count() == 1


def test_concurrent_sends_keep_each_users_event_numbers_dense(send_path: str) -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    one, two = make_direct(alice, bob), make_direct(alice, carol)
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def work() -> Any:
        with lock:
            i = next(counter)
        target = one if i % 2 else two
        sender = alice if i < THREADS // 2 else (bob if target == one else carol)
        return services.message_send(
            sender=sender, conversation_uuid=target.uuid, client_id=uuid.uuid4(), text=str(i)
        )

    results = _race(work)
    assert not [r for r in results if isinstance(r, Exception)]
    seqs = list(Event.objects.filter(user=alice).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_concurrent_sends_into_an_unanswered_request_store_exactly_the_cap(
    send_path: str,
) -> None:
    """Eight sends at once into a message request nobody answered: exactly
    ``CHAT_REQUEST_MESSAGES`` (3) are stored, every other one is 403 ``request_limit``
    in the error shape, and the recipient gets one quiet notice."""
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_request(alice, bob)
    tokens = [api_client_for(alice) for _ in range(THREADS)]
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def work() -> Any:
        with lock:
            api = tokens[next(counter)]
        response = api.post(
            f"/api/v1/conversations/{conversation.uuid}/messages",
            {"client_id": str(uuid.uuid4()), "text": "hello?"},
            format="json",
        )
        return response.status_code, response.json()

    results = _race(work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert sorted(code for code, _ in results) == [201] * 3 + [403] * (THREADS - 3)
    for code, body in results:
        if code == 403:
            assert body["errors"][0]["code"] == "request_limit"
    assert Message.objects.filter(conversation=conversation, sender=alice).count() == 3
    notices = Event.objects.filter(user=bob, type="conversation.request")
    assert notices.count() == 1
