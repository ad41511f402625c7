"""The per-user event stream: sync returns exactly the missed changes; compaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from chat import services
from chat.events import events_compact
from chat.models import Event, EventStream
from tests.factories.chat import make_direct, make_group, send

pytestmark = pytest.mark.django_db


def test_sync_after_a_disconnect_returns_exactly_the_missed_changes(
    alice: User, bob: User, carol: User, alice_api: APIClient, bob_api: APIClient
) -> None:
    direct = make_direct(alice, bob)
    before = send(alice, direct, "seen before the disconnect")
    cursor = bob_api.get("/api/v1/sync").json()["cursor"]
    assert cursor > 0
    assert bob_api.get("/api/v1/sync", {"since": cursor}).json()["events"] == []

    # Bob's phone is offline while these happen.
    new = send(alice, direct, "new")
    services.message_edit(
        user=alice, conversation_uuid=direct.uuid, message_id=new.id, text="new, edited"
    )
    services.message_recall(user=alice, conversation_uuid=direct.uuid, message_id=before.id)
    services.conversation_mark_read(user=alice, conversation_uuid=direct.uuid, message_id=new.id)
    group = make_group(carol, bob, title="G")
    make_direct(alice, carol)  # not Bob's business
    send(carol, make_direct(carol, alice), "also not Bob's")

    body = bob_api.get("/api/v1/sync", {"since": cursor}).json()
    events = body["events"]
    summary = [(e["type"], e.get("message_id")) for e in events]
    assert summary == [
        ("message.created", new.id),
        ("message.updated", new.id),
        ("message.deleted", before.id),
        ("conversation.read", None),
        ("message.created", summary[4][1]),
    ]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(cursor + 1, cursor + 6))
    assert body["cursor"] == seqs[-1]
    # Hydrated with the current state of each message.
    assert events[0]["message"]["text"] == "new, edited"
    assert events[2]["mode"] == "recalled"
    assert events[2]["message"]["recalled"] is True
    assert events[3]["user"] == str(alice.uuid)
    assert events[4]["conversation"] == str(group.uuid)
    assert events[4]["message"]["system"]["action"] == "group_created"
    # Catching up again from the new cursor gives nothing.
    assert bob_api.get("/api/v1/sync", {"since": body["cursor"]}).json()["events"] == []
    # Paging.
    page = bob_api.get("/api/v1/sync", {"since": cursor, "limit": 2}).json()
    assert [e["seq"] for e in page["events"]] == seqs[:2]
    assert page["has_more"] is True


def test_read_receipts_opt_out_keeps_own_devices_informed(
    alice: User, bob: User, bob_api: APIClient, alice_api: APIClient
) -> None:
    direct = make_direct(alice, bob)
    message = send(alice, direct, "x")
    alice_cursor = alice_api.get("/api/v1/sync").json()["cursor"]
    bob_cursor = bob_api.get("/api/v1/sync").json()["cursor"]
    services.chat_settings_update(user=bob, share_read_receipts=False)
    services.conversation_mark_read(user=bob, conversation_uuid=direct.uuid, message_id=message.id)
    assert alice_api.get("/api/v1/sync", {"since": alice_cursor}).json()["events"] == []
    own = bob_api.get("/api/v1/sync", {"since": bob_cursor}).json()["events"]
    assert [e["type"] for e in own] == ["conversation.read"]


def test_compaction_tells_a_client_too_far_behind_to_refetch(
    settings: LazySettings, alice: User, bob: User, bob_api: APIClient
) -> None:
    direct = make_direct(alice, bob)
    send(alice, direct, "old")
    cursor_old = 0
    Event.objects.update(created_at=timezone.now() - settings.CHAT_SYNC_RETENTION - timedelta(1))
    recent_cursor = bob_api.get("/api/v1/sync").json()["cursor"]
    send(alice, direct, "recent")
    assert events_compact() > 0
    stream = EventStream.objects.get(user=bob)
    assert stream.compacted_through == recent_cursor
    response = bob_api.get("/api/v1/sync", {"since": cursor_old})
    assert response.status_code == 410
    assert response.json()["errors"][0]["code"] == "sync_refetch_required"
    ok = bob_api.get("/api/v1/sync", {"since": recent_cursor}).json()
    assert [e["message"]["text"] for e in ok["events"]] == ["recent"]
    # A cursor from the future (another installation) is refused the same way.
    assert bob_api.get("/api/v1/sync", {"since": 10**9}).status_code == 410
    assert bob_api.get("/api/v1/sync", {"since": "x"}).status_code == 400


def test_event_numbers_are_dense_per_user(alice: User, bob: User, carol: User) -> None:
    group = make_group(alice, bob, carol)
    for _ in range(5):
        send(alice, group)
    for user in (alice, bob, carol):
        seqs = list(Event.objects.filter(user=user).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        assert EventStream.objects.get(user=user).seq == seqs[-1]


def test_sync_shows_no_content_of_a_conversation_left(
    alice: User, bob: User, carol: User, carol_api: APIClient
) -> None:
    group = make_group(alice, bob, carol)
    cursor = carol_api.get("/api/v1/sync").json()["cursor"]
    send(alice, group, "before carol left")
    services.group_leave(user=carol, conversation_uuid=group.uuid)
    events = carol_api.get("/api/v1/sync", {"since": cursor}).json()["events"]
    assert [e["type"] for e in events] == ["message.created", "conversation.removed"]
    assert events[0]["message"] is None
    assert events[0]["message_id"]
