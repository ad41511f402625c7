"""The history page's one-query payloads (chat.history) are exactly what
chat.payloads.message_payload makes of the same messages: text, system, recalled,
moderated, edited, attachments (signed URLs), hidden-for-me left out, and paging."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from chat import services
from chat.history import history_page_payloads
from chat.models import Message
from chat.payloads import message_payload
from media.models import MediaFile
from meetnow.lib.errors import NotFoundError
from tests.factories.chat import make_direct, make_group, make_user, send

pytestmark = pytest.mark.django_db


def _photo(owner: User) -> MediaFile:
    return MediaFile.objects.create(
        owner=owner,
        purpose="chat",
        kind="image",
        status="ready",
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
