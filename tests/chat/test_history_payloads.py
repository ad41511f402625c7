"""The history page's one-query payloads (chat.history) are exactly what
chat.payloads.message_payload makes of the same messages: text, system, recalled,
moderated, edited, attachments (ready or not, signed URLs), times (with and without a
fraction of a second), hidden-for-me left out, and paging; and the endpoint's answer is
byte for byte the JSON of those payloads."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from rest_framework.renderers import JSONRenderer

from accounts.models import User
from chat import services
from chat.history import history_page_payloads
from chat.models import Message
from chat.payloads import message_payload
from media.models import MediaFile
from meetnow.lib.errors import NotFoundError
from tests.factories.chat import make_direct, make_group, make_user, send
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _signing_clock() -> Iterator[None]:
    """Signed URLs carry their expiry (whole seconds): both paths sign at one instant."""
    with mock.patch("media.signing.time", SimpleNamespace(time=lambda: 1_900_000_000.5)):
        yield


def _photo(owner: User, status: str = "ready") -> MediaFile:
    return MediaFile.objects.create(
        owner=owner,
        purpose="chat",
        kind="image",
        status=status,
        sniffed_type="image/jpeg",
        size=10,
        width=4,
        height=3,
        variants={
            "original": {"key": f"f/{uuid.uuid4().hex}/o.jpg", "content_type": "x", "size": 1}
        },
    )


def _expected(ids: list[int]) -> list[dict[str, Any]]:
    messages = Message.objects.select_related("conversation", "sender", "attachment")
    by_id = {m.id: m for m in messages.filter(id__in=ids)}
    return [message_payload(by_id[i]) for i in ids]


def test_every_kind_of_row_matches_the_payload_shape() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    group = make_group(alice, bob, carol, title="g")  # starts with a system message
    plain = send(alice, group, "hello")
    services.message_edit(user=alice, conversation_uuid=group.uuid, message_id=plain.id, text="hi")
    photo, _ = services.message_send(
        sender=bob,
        conversation_uuid=group.uuid,
        client_id=uuid.uuid4(),
        kind="image",
        media=_photo(bob).uuid,
    )
    recalled = send(carol, group, "oops")
    services.message_recall(user=carol, conversation_uuid=group.uuid, message_id=recalled.id)
    moderated = send(bob, group, "rude")
    Message.objects.filter(pk=moderated.pk).update(moderated_at=timezone.now(), text="")
    hidden = send(bob, group, "not for alice's eyes")
    services.message_delete_for_me(user=alice, conversation_uuid=group.uuid, message_id=hidden.id)

    page = history_page_payloads(user_id=alice.pk, conversation_uuid=group.uuid)
    ids = [p["id"] for p in page.results]
    assert hidden.id not in ids
    assert ids == sorted(ids, reverse=True)
    assert page.results == _expected(ids)
    assert page.has_more is False
    kinds = {p["id"]: p for p in page.results}
    assert kinds[photo.id]["attachment"]["urls"]
    assert kinds[plain.id]["edited_at"] is not None
    assert kinds[recalled.id]["recalled"]
    assert kinds[recalled.id]["text"] == ""
    assert kinds[moderated.id]["removed_by_moderator"]
    # Bob did not hide it: he sees it.
    bobs = history_page_payloads(user_id=bob.pk, conversation_uuid=group.uuid)
    assert hidden.id in [p["id"] for p in bobs.results]


def test_paging_before_and_after_and_strangers() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    conversation = make_direct(alice, bob)
    other = make_direct(alice, carol)
    ids = [send(alice if i % 2 else bob, conversation, f"m{i}").id for i in range(7)]
    send(carol, other, "elsewhere")
    latest = history_page_payloads(user_id=alice.pk, conversation_uuid=conversation.uuid, limit=3)
    assert [p["id"] for p in latest.results] == ids[:-4:-1]
    assert latest.has_more
    older = history_page_payloads(
        user_id=alice.pk, conversation_uuid=conversation.uuid, before=ids[4], limit=3
    )
    assert [p["id"] for p in older.results] == [ids[3], ids[2], ids[1]]
    assert older.has_more
    newer = history_page_payloads(
        user_id=alice.pk, conversation_uuid=conversation.uuid, after=ids[1], limit=3
    )
    assert [p["id"] for p in newer.results] == [ids[4], ids[3], ids[2]]
    assert newer.has_more
    assert (
        history_page_payloads(
            user_id=alice.pk, conversation_uuid=conversation.uuid, after=ids[-1]
        ).results
        == []
    )
    for stranger_conv in (conversation.uuid, uuid.uuid4(), "nope"):
        with pytest.raises(NotFoundError):
            history_page_payloads(user_id=carol.pk, conversation_uuid=stranger_conv)


def _attach(sender: User, conversation: Any, media_file: MediaFile) -> Message:
    message, _ = services.message_send(
        sender=sender,
        conversation_uuid=conversation.uuid,
        client_id=uuid.uuid4(),
        kind="image",
        media=media_file.uuid,
    )
    return message


def test_attachments_come_in_the_same_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    ready = _attach(alice, conversation, _photo(alice))
    send(bob, conversation, "between")
    processing_file = _photo(bob)
    processing = _attach(bob, conversation, processing_file)
    MediaFile.objects.filter(pk=processing_file.pk).update(status="processing")
    recalled = _attach(bob, conversation, _photo(bob))
    services.message_recall(user=bob, conversation_uuid=conversation.uuid, message_id=recalled.id)
    another = _attach(alice, conversation, _photo(alice))

    with django_assert_num_queries(1):
        page = history_page_payloads(user_id=bob.pk, conversation_uuid=conversation.uuid)
    ids = [p["id"] for p in page.results]
    assert ids == [another.id, recalled.id, processing.id, ids[3], ready.id]
    assert page.results == _expected(ids)
    by_id = {p["id"]: p for p in page.results}
    assert by_id[ready.id]["attachment"]["urls"]
    assert by_id[another.id]["attachment"]["urls"] != by_id[ready.id]["attachment"]["urls"]
    assert by_id[processing.id]["attachment"]["status"] == "processing"
    assert by_id[processing.id]["attachment"]["urls"] == {}
    assert by_id[recalled.id]["attachment"] is None


def test_times_are_written_as_everywhere_else() -> None:
    """UTC as "Z", microseconds only when there are some (``meetnow.lib.timestamps.iso``)."""
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    whole = send(alice, conversation, "on the second")
    fraction = send(bob, conversation, "a little later")
    Message.objects.filter(pk=whole.pk).update(
        created_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        edited_at=dt.datetime(2026, 1, 2, 3, 4, 6, 120000, tzinfo=dt.UTC),
    )
    Message.objects.filter(pk=fraction.pk).update(
        created_at=dt.datetime(2026, 1, 2, 11, 4, 5, 7, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    )
    page = history_page_payloads(user_id=alice.pk, conversation_uuid=conversation.uuid)
    assert page.results == _expected([fraction.id, whole.id])
    assert [(p["created_at"], p["edited_at"]) for p in page.results] == [
        ("2026-01-02T03:04:05.000007Z", None),
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:06.120000Z"),
    ]


def test_the_endpoint_answers_exactly_the_payloads() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    group = make_group(alice, bob, carol, title="g")
    send(alice, group, 'quotes " and \\ backslashes, 中文, \u2028 and a tab\t')
    _attach(bob, group, _photo(bob))
    moderated = send(carol, group, "rude")
    Message.objects.filter(pk=moderated.pk).update(moderated_at=timezone.now())
    for _ in range(3):
        send(bob, group, "more")
    response = api_client_for(alice).get(f"/api/v1/conversations/{group.uuid}/messages?limit=5")
    assert response.status_code == 200
    ids = [p["id"] for p in response.json()["results"]]
    assert len(ids) == 5
    expected = {"results": _expected(ids), "has_more": True}
    assert response.content == JSONRenderer().render(expected)
