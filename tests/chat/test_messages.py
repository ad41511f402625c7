"""Messages: send (idempotent), history, edit/recall windows, delete-for-me, read state."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from chat import services
from chat.models import Conversation, Message, MessageVersion
from tests.factories.chat import make_block, make_direct, make_group, send

pytestmark = pytest.mark.django_db


def _url(conversation: Conversation, suffix: str = "") -> str:
    return f"/api/v1/conversations/{conversation.uuid}/messages{suffix}"


def test_send_then_retry_returns_the_stored_message(
    alice: User, bob: User, alice_api: APIClient
) -> None:
    conversation = make_direct(alice, bob)
    client_id = str(uuid.uuid4())
    first = alice_api.post(_url(conversation), {"client_id": client_id, "text": "hi"})
    assert first.status_code == 201, first.json()
    retry = alice_api.post(_url(conversation), {"client_id": client_id, "text": "hi"})
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert Message.objects.filter(conversation=conversation, kind="text").count() == 1
    body = first.json()
    assert body["sender"] == str(alice.uuid)
    assert body["text"] == "hi"
    assert body["conversation"] == str(conversation.uuid)


def test_client_id_reused_in_another_conversation_is_a_conflict(
    alice: User, bob: User, carol: User, alice_api: APIClient
) -> None:
    one, two = make_direct(alice, bob), make_direct(alice, carol)
    client_id = str(uuid.uuid4())
    assert alice_api.post(_url(one), {"client_id": client_id, "text": "a"}).status_code == 201
    response = alice_api.post(_url(two), {"client_id": client_id, "text": "a"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "client_id_conflict"


def test_bad_send_input_gets_clear_400s(
    settings: LazySettings, alice: User, bob: User, alice_api: APIClient
) -> None:
    settings.CHAT_TEXT_MAX = 10
    conversation = make_direct(alice, bob)
    cases = [
        ({"text": "no client id"}, "required", "client_id"),
        ({"client_id": "nope", "text": "x"}, "invalid", "client_id"),
        ({"client_id": str(uuid.uuid4()), "text": "   "}, "text_required", "text"),
        ({"client_id": str(uuid.uuid4()), "text": "x" * 11}, "text_too_long", "text"),
        ({"client_id": str(uuid.uuid4()), "kind": "system", "text": "x"}, "invalid_choice", "kind"),
        ({"client_id": str(uuid.uuid4()), "text": ["x"]}, "invalid", "text"),
    ]
    for body, code, param in cases:
        response = alice_api.post(_url(conversation), body, format="json")
        assert response.status_code == 400, (body, response.json())
        error = response.json()["errors"][0]
        assert (error["code"], error["param"]) == (code, param), body
    assert not Message.objects.filter(conversation=conversation, kind="text").exists()


def test_blocked_users_cannot_message(
    alice: User, bob: User, alice_api: APIClient, bob_api: APIClient
) -> None:
    conversation = make_direct(alice, bob)
    make_block(bob, alice)
    for api in (alice_api, bob_api):
        response = api.post(_url(conversation), {"client_id": str(uuid.uuid4()), "text": "hi"})
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "blocked"
    assert not Message.objects.filter(conversation=conversation, kind="text").exists()


def test_history_pages_newest_first_before_and_after(
    alice: User, bob: User, alice_api: APIClient
) -> None:
    conversation = make_direct(alice, bob)
    ids = [send(alice, conversation, f"m{i}").id for i in range(7)]
    latest = alice_api.get(_url(conversation), {"limit": 3}).json()
    assert [m["id"] for m in latest["results"]] == ids[:-4:-1]
    assert latest["has_more"] is True
    older = alice_api.get(_url(conversation), {"before": ids[4], "limit": 3}).json()
    assert [m["id"] for m in older["results"]] == [ids[3], ids[2], ids[1]]
    newer = alice_api.get(_url(conversation), {"after": ids[1], "limit": 3}).json()
    assert [m["id"] for m in newer["results"]] == [ids[4], ids[3], ids[2]]
    assert newer["has_more"] is True
    # Bounds at and beyond the id range (64-bit) still page from the newest message.
    for before in (2**63 - 1, 10**30):
        page = alice_api.get(_url(conversation), {"before": before, "limit": 2}).json()
        assert [m["id"] for m in page["results"]] == [ids[6], ids[5]], before
    for params in ({"limit": 101}, {"before": "x"}, {"after": -1}, {"before": 1, "after": 2}):
        response = alice_api.get(_url(conversation), params)
        assert response.status_code == 400, params


def test_edit_within_window_keeps_versions_then_refused_after(
    settings: LazySettings, alice: User, bob: User, alice_api: APIClient
) -> None:
    conversation = make_direct(alice, bob)
    message = send(alice, conversation, "first")
    response = alice_api.patch(_url(conversation, f"/{message.id}"), {"text": "second"})
    assert response.status_code == 200, response.json()
    assert response.json()["text"] == "second"
    assert response.json()["edited_at"]
    assert list(MessageVersion.objects.filter(message=message).values_list("text", flat=True)) == [
        "first"
    ]
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - settings.CHAT_EDIT_WINDOW - timedelta(seconds=1)
    )
    late = alice_api.patch(_url(conversation, f"/{message.id}"), {"text": "third"})
    assert late.status_code == 403
    assert late.json()["errors"][0]["code"] == "edit_window_expired"


def test_only_the_sender_edits_or_recalls(alice: User, bob: User, bob_api: APIClient) -> None:
    conversation = make_direct(alice, bob)
    message = send(alice, conversation, "mine")
    response = bob_api.patch(_url(conversation, f"/{message.id}"), {"text": "yours"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "not_sender"
    assert bob_api.delete(_url(conversation, f"/{message.id}")).status_code == 403


def test_recall_within_window_leaves_a_tombstone(
    settings: LazySettings, alice: User, bob: User, alice_api: APIClient, bob_api: APIClient
) -> None:
    conversation = make_direct(alice, bob)
    message = send(alice, conversation, "oops")
    services.message_edit(
        user=alice, conversation_uuid=conversation.uuid, message_id=message.id, text="oops2"
    )
    response = alice_api.delete(_url(conversation, f"/{message.id}"))
    assert response.status_code == 200
    seen = bob_api.get(_url(conversation)).json()["results"][0]
    assert seen["id"] == message.id
    assert seen["recalled"] is True
    assert seen["text"] == ""
    assert not MessageVersion.objects.filter(message=message).exists()
    old = send(alice, conversation, "old")
    Message.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - settings.CHAT_RECALL_WINDOW - timedelta(seconds=1)
    )
    late = alice_api.delete(_url(conversation, f"/{old.id}"))
    assert late.status_code == 403
    assert late.json()["errors"][0]["code"] == "recall_window_expired"
    again = alice_api.delete(_url(conversation, f"/{message.id}"))
    assert again.json()["errors"][0]["code"] == "message_removed"


def test_delete_for_me_hides_only_for_me(
    alice: User, bob: User, alice_api: APIClient, bob_api: APIClient
) -> None:
    conversation = make_direct(alice, bob)
    message = send(alice, conversation, "x")
    response = bob_api.post(_url(conversation, f"/{message.id}/delete-for-me"))
    assert response.status_code == 204
    assert bob_api.get(_url(conversation)).json()["results"] == []
    assert [m["id"] for m in alice_api.get(_url(conversation)).json()["results"]] == [message.id]
    assert bob_api.post(_url(conversation, "/999999/delete-for-me")).status_code == 404


def test_read_state_unread_counts_and_receipts(
    alice: User, bob: User, carol: User, alice_api: APIClient, bob_api: APIClient
) -> None:
    group = make_group(alice, bob, carol)
    direct = make_direct(alice, bob)
    m1 = send(alice, group, "1")
    send(alice, group, "2")
    send(alice, direct, "3")
    send(bob, direct, "mine")
    listing = bob_api.get("/api/v1/conversations").json()
    assert listing["unread_total"] == 4  # 2 in the group (+ its creation notice), 1 direct
    by_uuid = {c["uuid"]: c for c in listing["results"]}
    assert by_uuid[str(group.uuid)]["unread_count"] == 3
    assert by_uuid[str(direct.uuid)]["unread_count"] == 1
    assert by_uuid[str(direct.uuid)]["last_message"]["text"] == "mine"
    # The list is sorted by last activity.
    assert listing["results"][0]["uuid"] == str(direct.uuid)

    response = bob_api.post(f"/api/v1/conversations/{group.uuid}/read", {"message_id": m1.id})
    assert response.json() == {"last_read_id": m1.id}
    assert bob_api.get("/api/v1/conversations").json()["unread_total"] == 2
    # Never backwards.
    bob_api.post(f"/api/v1/conversations/{group.uuid}/read", {"message_id": 1})
    detail = alice_api.get(f"/api/v1/conversations/{group.uuid}").json()
    receipts = {m["user"]["uuid"]: m["last_read_id"] for m in detail["members"]}
    assert receipts[str(bob.uuid)] == m1.id
    # Bob stops sharing receipts: his read marker is no longer shown to others.
    bob_api.patch("/api/v1/chat/settings", {"share_read_receipts": False})
    detail = alice_api.get(f"/api/v1/conversations/{group.uuid}").json()
    receipts = {m["user"]["uuid"]: m["last_read_id"] for m in detail["members"]}
    assert receipts[str(bob.uuid)] is None
    bad = bob_api.post(f"/api/v1/conversations/{group.uuid}/read", {"message_id": 10**9})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "invalid_message"


def test_settings_endpoint(alice_api: APIClient) -> None:
    assert alice_api.get("/api/v1/chat/settings").json() == {
        "share_read_receipts": True,
        "push_previews": False,
    }
    response = alice_api.patch("/api/v1/chat/settings", {"push_previews": True})
    assert response.json()["push_previews"] is True
    assert alice_api.patch("/api/v1/chat/settings", {"nope": 1}).status_code == 400


def test_send_is_throttled_per_user(
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
    alice: User,
    bob: User,
    alice_api: APIClient,
) -> None:
    monkeypatch.setattr("meetnow.lib.throttling.clock", lambda: 1_800_000_000.0)  # one window
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates["chat_send"] = "2/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        conversation = make_direct(alice, bob)
        codes = [
            alice_api.post(_url(conversation), {"client_id": str(uuid.uuid4()), "text": "x"})
            for _ in range(3)
        ]
        assert [r.status_code for r in codes] == [201, 201, 429]
        assert codes[2].json()["errors"][0]["code"] == "rate_limited"
        assert alice_api.get(_url(conversation)).status_code == 200
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original


def test_unread_counts_are_capped(alice: User, bob: User, bob_api: APIClient) -> None:
    from chat.selectors import UNREAD_CAP

    conversation = make_direct(alice, bob)
    Message.objects.bulk_create(
        [
            Message(conversation=conversation, sender=alice, kind="text", text=str(i))
            for i in range(UNREAD_CAP + 5)
        ]
    )
    listing = bob_api.get("/api/v1/conversations").json()
    assert listing["results"][0]["unread_count"] == UNREAD_CAP
    assert listing["unread_total"] == UNREAD_CAP
