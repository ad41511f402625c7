"""Conversations: direct (one per pair), groups, blocks, members-only access (P11)."""

from __future__ import annotations

import uuid

import pytest
from django.conf import LazySettings
from rest_framework.test import APIClient

from accounts.models import User
from chat.models import Conversation, Membership, Message, MessageKind
from tests.factories.chat import make_block, make_direct, make_group, make_user, send
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def test_direct_conversation_is_created_once_per_pair(
    alice: User, bob: User, alice_api: APIClient, bob_api: APIClient
) -> None:
    first = alice_api.post("/api/v1/conversations", {"user": str(bob.uuid)})
    assert first.status_code == 201, first.json()
    again = bob_api.post("/api/v1/conversations", {"user": str(alice.uuid)})
    assert again.status_code == 200
    assert again.json()["uuid"] == first.json()["uuid"]
    assert Conversation.objects.filter(kind="direct").count() == 1
    body = first.json()
    assert body["kind"] == "direct"
    assert {m["user"]["uuid"] for m in body["members"]} == {str(alice.uuid), str(bob.uuid)}


def test_direct_with_blocked_user_is_refused_both_ways(
    alice: User, bob: User, carol: User, alice_api: APIClient, bob_api: APIClient
) -> None:
    make_block(alice, bob)
    for api, other in ((alice_api, bob), (bob_api, alice)):
        response = api.post("/api/v1/conversations", {"user": str(other.uuid)})
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "blocked"
    response = bob_api.post(
        "/api/v1/conversations", {"title": "x", "users": [str(alice.uuid), str(carol.uuid)]}
    )
    assert response.json()["errors"][0]["code"] == "blocked"


def test_bad_input_gets_clear_4xx(alice: User, alice_api: APIClient) -> None:
    cases = [
        ({"user": "not-a-uuid"}, 400),
        ({"user": str(uuid.uuid4())}, 400),
        ({"user": str(alice.uuid)}, 400),
        ({}, 400),
        ({"users": [], "title": "t"}, 400),
        ({"title": "", "users": [str(uuid.uuid4())]}, 400),
        ({"bogus": 1}, 400),
    ]
    for body, code in cases:
        response = alice_api.post("/api/v1/conversations", body, format="json")
        assert response.status_code == code, (body, response.json())
        assert response.json()["errors"][0]["code"]
    assert alice_api.post("/api/v1/conversations", "[1,", content_type="application/json")
    assert alice_api.get("/api/v1/conversations/nope").status_code == 404


def test_non_members_can_neither_read_nor_list(
    alice: User, bob: User, carol: User, carol_api: APIClient
) -> None:
    conversation = make_direct(alice, bob)
    message = send(alice, conversation, "secret")
    base = f"/api/v1/conversations/{conversation.uuid}"
    assert carol_api.get(base).status_code == 404
    assert carol_api.get(f"{base}/messages").status_code == 404
    response = carol_api.post(f"{base}/messages", {"client_id": str(uuid.uuid4()), "text": "hi"})
    assert response.status_code == 404
    assert carol_api.post(f"{base}/read", {"message_id": message.id}).status_code == 404
    assert carol_api.get("/api/v1/conversations").json()["results"] == []
    sync = carol_api.get("/api/v1/sync", {"since": 0}).json()
    assert sync["events"] == []
    report = carol_api.post("/api/v1/reports", {"reason": "spam", "message_id": message.id})
    assert report.status_code == 404


def test_group_create_add_remove_leave(
    alice: User,
    bob: User,
    carol: User,
    alice_api: APIClient,
    bob_api: APIClient,
    carol_api: APIClient,
) -> None:
    # Alice's conversation partners: added at once (strangers get an invitation,
    # tests/chat/test_invitations.py).
    make_direct(alice, bob)
    make_direct(alice, carol)
    response = alice_api.post(
        "/api/v1/conversations", {"title": "Friends", "users": [str(bob.uuid)]}, format="json"
    )
    assert response.status_code == 201, response.json()
    conv = response.json()["uuid"]
    assert response.json()["role"] == "owner"
    # Only the owner adds.
    denied = bob_api.post(f"/api/v1/conversations/{conv}/members", {"users": [str(carol.uuid)]})
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "not_owner"
    added = alice_api.post(f"/api/v1/conversations/{conv}/members", {"users": [str(carol.uuid)]})
    assert added.status_code == 204
    assert carol_api.get(f"/api/v1/conversations/{conv}").status_code == 200
    # Owner removes carol: she loses access.
    removed = alice_api.delete(f"/api/v1/conversations/{conv}/members/{carol.uuid}")
    assert removed.status_code == 204
    assert carol_api.get(f"/api/v1/conversations/{conv}/messages").status_code == 404
    # Owner leaves: bob becomes owner.
    assert alice_api.post(f"/api/v1/conversations/{conv}/leave").status_code == 204
    assert bob_api.get(f"/api/v1/conversations/{conv}").json()["role"] == "owner"
    assert alice_api.get(f"/api/v1/conversations/{conv}").status_code == 404
    actions = [
        (m.system or {})["action"]
        for m in Message.objects.filter(conversation__uuid=conv, kind=MessageKind.SYSTEM)
    ]
    assert actions == ["group_created", "members_added", "member_removed", "member_left"]


def test_group_size_is_capped(settings: LazySettings, alice: User) -> None:
    settings.MEETNOW_GROUP_MAX = 3
    others = [make_user() for _ in range(3)]
    api = api_client_for(alice)
    response = api.post(
        "/api/v1/conversations",
        {"title": "Big", "users": [str(u.uuid) for u in others]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "group_full"
    group = make_group(alice, others[0], others[1])
    response = api.post(
        f"/api/v1/conversations/{group.uuid}/members", {"users": [str(others[2].uuid)]}
    )
    assert response.json()["errors"][0]["code"] == "group_full"


def test_direct_conversation_cannot_be_left(alice: User, bob: User, alice_api: APIClient) -> None:
    conversation = make_direct(alice, bob)
    response = alice_api.post(f"/api/v1/conversations/{conversation.uuid}/leave")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_a_group"
    assert Membership.objects.filter(conversation=conversation, left_at=None).count() == 2


def test_mute(alice: User, bob: User, alice_api: APIClient) -> None:
    conversation = make_direct(alice, bob)
    response = alice_api.post(f"/api/v1/conversations/{conversation.uuid}/mute", {"muted": True})
    assert response.json() == {"muted": True}
    assert alice_api.get(f"/api/v1/conversations/{conversation.uuid}").json()["muted"] is True
    bad = alice_api.post(f"/api/v1/conversations/{conversation.uuid}/mute", {"muted": "maybe"})
    assert bad.status_code == 400


def test_conversation_list_pages_with_a_cursor(alice: User, alice_api: APIClient) -> None:
    others = [make_user() for _ in range(5)]
    for other in others:
        send(other, make_direct(alice, other), "hi")
    seen: list[str] = []
    url = "/api/v1/conversations?limit=2"
    for _ in range(5):
        body = alice_api.get(url).json()
        seen += [c["uuid"] for c in body["results"]]
        if not body["next"]:
            break
        url = body["next"]
    assert len(seen) == 5
    assert len(set(seen)) == 5
    expected = [str(c.uuid) for c in Conversation.objects.order_by("-last_activity_at", "-id")]
    assert seen == expected
