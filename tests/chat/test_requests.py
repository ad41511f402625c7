"""Message requests (issue 15) through the API: a stranger's direct conversation is a
request for its recipient, capped at three unanswered messages, answered by accept,
decline or report-and-block; ``dm_from: matches_only`` refuses strangers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Block, User
from chat.models import Report
from chat.push import LogBackend
from tests.factories.chat import make_device, make_direct, make_request, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

V = "/api/v1"


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any]]:
    sent: list[tuple[int, Any]] = []

    def send(self: Any, device: Any, note: Any) -> bool:
        sent.append((device.user_id, note))
        return True

    monkeypatch.setattr(LogBackend, "send", send)
    return sent


def _send(api: APIClient, conversation: str, text: str = "hi", client_id: str = "") -> Any:
    return api.post(
        f"{V}/conversations/{conversation}/messages",
        {"client_id": client_id or str(uuid.uuid4()), "text": text},
        format="json",
    )


def _uuids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["uuid"] for c in response.json()["results"]]


def _events(api: APIClient) -> list[dict[str, Any]]:
    return list(api.get(f"{V}/sync", {"since": 0}).json()["events"])


def _start(sender_api: APIClient, recipient: User) -> str:
    response = sender_api.post(f"{V}/conversations", {"user": str(recipient.uuid)}, format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["uuid"])


def test_a_strangers_conversation_is_a_request_capped_at_three_messages(
    pushes: list[tuple[int, Any]], django_capture_on_commit_callbacks: Any, celery_eager: Any
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    make_device(bob)
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    conv = _start(alice_api, bob)
    assert alice_api.get(f"{V}/conversations/{conv}").json()["request"] == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        codes = [_send(alice_api, conv, f"m{i}").status_code for i in range(3)]
    assert codes == [201, 201, 201]
    # The fourth: refused, in the error shape, with a code the app can act on.
    refused = _send(alice_api, conv, "m3")
    assert refused.status_code == 403
    assert refused.json()["status"] == 403
    assert refused.json()["errors"][0]["code"] == "request_limit"
    # Bob: not in his conversations, in his requests, readable before answering.
    assert conv not in _uuids(bob_api.get(f"{V}/conversations"))
    requests = bob_api.get(f"{V}/chat/requests").json()["results"]
    assert [r["uuid"] for r in requests] == [conv]
    assert requests[0]["request"] == "received"
    assert requests[0]["last_message"]["text"] == "m2"
    history = bob_api.get(f"{V}/conversations/{conv}/messages").json()["results"]
    assert [m["text"] for m in history] == ["m2", "m1", "m0"]
    assert bob_api.get(f"{V}/conversations").json()["unread_total"] == 0
    # One quiet notice: one event and one ID-only push, not one per message.
    bob_events = _events(bob_api)
    assert [e["type"] for e in bob_events] == ["conversation.request"]
    assert bob_events[0]["conversation"] == conv
    assert bob_events[0]["user"] == str(alice.uuid)
    to_bob = [note for uid, note in pushes if uid == bob.pk]
    assert len(to_bob) == 1
    assert to_bob[0].kind == "message_request"
    assert to_bob[0].conversation == conv
    assert (to_bob[0].title, to_bob[0].body) == (None, None)


def test_a_retry_of_a_stored_message_at_the_cap_gets_it_back() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    api = api_client_for(alice)
    conv = _start(api, bob)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for cid in ids:
        assert _send(api, conv, client_id=cid).status_code == 201
    again = _send(api, conv, client_id=ids[-1])
    assert again.status_code == 200
    assert again.json()["client_id"] == ids[-1]


def test_the_recipient_accepts_and_it_becomes_a_normal_conversation() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    conv = _start(alice_api, bob)
    first = _send(alice_api, conv).json()
    # Bob can't reply before accepting.
    early = _send(bob_api, conv)
    assert early.status_code == 403
    assert early.json()["errors"][0]["code"] == "request_not_accepted"
    # While pending, his reading shares no receipt with Alice.
    read = bob_api.post(f"{V}/conversations/{conv}/read", {"message_id": first["id"]})
    assert read.status_code == 200
    alice_view = alice_api.get(f"{V}/conversations/{conv}").json()
    assert [m["last_read_id"] for m in alice_view["members"]] == [0, None]
    assert not [e for e in _events(alice_api) if e["type"] == "conversation.read"]
    accepted = bob_api.post(f"{V}/chat/requests/{conv}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["request"] is None
    assert _uuids(bob_api.get(f"{V}/conversations")) == [conv]
    assert _uuids(bob_api.get(f"{V}/chat/requests")) == []
    assert alice_api.get(f"{V}/conversations/{conv}").json()["request"] is None
    for i in range(4):
        assert _send(alice_api, conv, f"after {i}").status_code == 201
    assert _send(bob_api, conv, "hello back").status_code == 201
    # Now Bob gets Alice's messages as events, and his read receipts reach her.
    assert [e["type"] for e in _events(bob_api)].count("message.created") >= 4
    last = alice_api.get(f"{V}/conversations/{conv}").json()["last_message"]["id"]
    bob_api.post(f"{V}/conversations/{conv}/read", {"message_id": last})
    assert [e for e in _events(alice_api) if e["type"] == "conversation.read"]
    # Answered already: a second accept or a decline is a 404.
    assert bob_api.post(f"{V}/chat/requests/{conv}/accept").status_code == 404
    assert bob_api.post(f"{V}/chat/requests/{conv}/decline").status_code == 404


def test_declined_is_hidden_for_the_recipient_and_looks_like_the_cap_to_the_sender() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    conv = _start(alice_api, bob)
    assert _send(alice_api, conv).status_code == 201
    before = alice_api.get(f"{V}/conversations/{conv}").json()
    assert bob_api.post(f"{V}/chat/requests/{conv}/decline").status_code == 204
    assert bob_api.get(f"{V}/conversations/{conv}").status_code == 404
    assert bob_api.get(f"{V}/conversations/{conv}/messages").status_code == 404
    assert _uuids(bob_api.get(f"{V}/chat/requests")) == []
    assert conv not in _uuids(bob_api.get(f"{V}/conversations"))
    # Alice: the same answer as at the cap of a pending request, and the same view.
    refused = _send(alice_api, conv)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "request_limit"
    after = alice_api.get(f"{V}/conversations/{conv}").json()
    assert after["request"] == before["request"] == "pending"
    assert after["members"] == before["members"]
    assert {e["type"] for e in _events(alice_api)} == {"conversation.created", "message.created"}
    # Opening the same conversation again changes nothing for Alice.
    again = alice_api.post(f"{V}/conversations", {"user": str(bob.uuid)}, format="json")
    assert (again.status_code, again.json()["uuid"]) == (200, conv)
    assert _send(alice_api, conv).status_code == 403


def test_report_and_block_reports_blocks_and_declines() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    conv = _start(alice_api, bob)
    _send(alice_api, conv, "buy my stuff")
    response = bob_api.post(
        f"{V}/chat/requests/{conv}/report", {"reason": "spam", "details": "ads"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["reported_user"] == str(alice.uuid)
    assert Report.objects.get(reporter=bob).reported_user == alice
    assert Block.objects.filter(blocker=bob, blocked=alice).exists()
    assert bob_api.get(f"{V}/conversations/{conv}").status_code == 404
    assert _uuids(bob_api.get(f"{V}/chat/requests")) == []
    assert _send(alice_api, conv).json()["errors"][0]["code"] == "blocked"
    bad = bob_api.post(f"{V}/chat/requests/{conv}/report", {"reason": "nope"}, format="json")
    assert bad.status_code == 400
    assert bob_api.post(f"{V}/chat/requests/not-a-uuid/report", {"reason": "spam"}).status_code in (
        404,
        400,
    )


def test_matches_only_refuses_strangers_with_a_clear_403() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    assert bob_api.get(f"{V}/me").json()["dm_from"] == "everyone"
    changed = bob_api.patch(f"{V}/me", {"dm_from": "matches_only"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["dm_from"] == "matches_only"
    refused = alice_api.post(f"{V}/conversations", {"user": str(bob.uuid)}, format="json")
    assert refused.status_code == 403
    body = refused.json()
    assert body["status"] == 403
    assert body["errors"][0]["code"] == "dm_matches_only"
    assert _uuids(bob_api.get(f"{V}/chat/requests")) == []
    bad = bob_api.patch(f"{V}/me", {"dm_from": "nobody"}, format="json")
    assert bad.status_code == 400
    # Bob can still start one himself (it is then Alice's request).
    conv = _start(bob_api, alice)
    assert _uuids(alice_api.get(f"{V}/chat/requests")) == [conv]


def test_opening_a_received_request_oneself_accepts_it() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    conv = _start(alice_api, bob)
    opened = bob_api.post(f"{V}/conversations", {"user": str(alice.uuid)}, format="json")
    assert (opened.status_code, opened.json()["uuid"]) == (200, conv)
    assert opened.json()["request"] is None
    assert _uuids(bob_api.get(f"{V}/conversations")) == [conv]
    assert _send(bob_api, conv).status_code == 201


def test_an_accepted_conversation_has_no_cap() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conv = make_direct(alice, bob)
    api = api_client_for(alice)
    for _ in range(5):
        assert _send(api, str(conv.uuid)).status_code == 201


@pytest.mark.parametrize("size", [2, 5])
def test_requests_list_has_a_fixed_query_count(size: int, django_assert_num_queries: Any) -> None:
    me = make_user("me")
    for i in range(size):
        stranger = make_user(f"s{i}")
        conversation = make_request(stranger, me)
        _send(api_client_for(stranger), str(conversation.uuid))
    api = api_client_for(me)
    # session user, page of memberships, last message ids and unread, last messages,
    # members.
    with django_assert_num_queries(1 + 4):
        response = api.get(f"{V}/chat/requests")
    assert len(response.json()["results"]) == size


def test_requests_are_exported_to_their_owner_and_erased_with_the_account() -> None:
    import datetime as dt
    import io
    import json
    import zipfile

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from chat.models import Membership
    from privacy.lifecycle import erasures_start_due, request_create
    from privacy.models import PrivacyRequest
    from tests.factories.privacy import run_erasure, run_export

    alice, bob = make_user("alice"), make_user("bob")
    conv = make_request(alice, bob)
    api_client_for(bob).patch(f"{V}/me", {"dm_from": "matches_only"}, format="json")
    export = request_create(user=bob, kind="access", identity_confirmed=True)
    assert run_export(export) == "done"
    export.refresh_from_db()
    with default_storage.open(export.archive_key, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    rows = json.loads(archive.read("conversations.json"))
    assert [(r["conversation_uuid"], r["request_state"]) for r in rows] == [
        (str(conv.uuid), "pending")
    ]
    profile = json.loads(archive.read("profile.json"))
    assert "matches_only" in json.dumps(profile)
    bob.refresh_from_db()
    erasure = request_create(user=bob, kind="erasure", identity_confirmed=True)
    PrivacyRequest.objects.filter(pk=erasure.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)
    )
    assert erasures_start_due() == [erasure.pk]
    assert run_erasure(erasure) == "done"
    assert not Membership.objects.filter(user_id=bob.pk).exists()
    # Alice keeps her side of the conversation.
    assert Membership.objects.filter(user=alice, conversation=conv).exists()


def test_requests_never_accepted_and_declined_invitations_are_purged_after_their_period(
    settings: Any,
) -> None:
    """P15: a message request not accepted 90 days after its last message is deleted,
    declined or still pending alike (so its sender cannot tell which), with the
    sender's messages and files; a declined group invitation goes 90 days after the
    decline, and the group may invite again. Accepted conversations are kept."""
    from datetime import timedelta

    from django.utils import timezone

    from chat.models import Conversation, GroupInvitation, Message
    from media.models import MediaFile
    from privacy.retention import retention_purge

    assert settings.MEETNOW_RETENTION_DAYS["chat_requests"] == 90
    assert settings.MEETNOW_RETENTION_DAYS["chat_declined_invitations"] == 90
    bob = make_user("bob")
    bob_api = api_client_for(bob)
    alice, carol, dave, erin = (make_user(n) for n in ("alice", "carol", "dave", "erin"))
    alice_api, carol_api = api_client_for(alice), api_client_for(carol)
    unanswered, declined = _start(alice_api, bob), _start(carol_api, bob)
    accepted, fresh = _start(api_client_for(dave), bob), _start(api_client_for(erin), bob)
    photo = MediaFile.objects.create(
        owner=alice,
        purpose="chat",
        kind="image",
        status="ready",
        sniffed_type="image/jpeg",
        size=10,
        variants={"original": {"key": f"f/x{uuid.uuid4().hex}/o.jpg", "content_type": "x"}},
    )
    sent = alice_api.post(
        f"{V}/conversations/{unanswered}/messages",
        {"client_id": str(uuid.uuid4()), "kind": "image", "media": str(photo.uuid)},
        format="json",
    )
    assert sent.status_code == 201, sent.content
    assert _send(carol_api, declined, "hello").status_code == 201
    assert bob_api.post(f"{V}/chat/requests/{declined}/decline").status_code == 204
    assert bob_api.post(f"{V}/chat/requests/{accepted}/accept").status_code == 200
    # A group Bob was invited to and declined, another whose invitation he ignores.
    owner = make_user("owner")
    owner_api = api_client_for(owner)
    groups = []
    for title in ("Declined", "Ignored"):
        made = owner_api.post(
            f"{V}/conversations", {"title": title, "users": [str(bob.uuid)]}, format="json"
        )
        groups.append(str(made.json()["uuid"]))
    assert bob_api.post(f"{V}/chat/invitations/{groups[0]}/decline").status_code == 204

    long_ago = timezone.now() - timedelta(days=91)
    Conversation.objects.filter(uuid__in=[unanswered, declined, accepted]).update(
        last_activity_at=long_ago
    )
    GroupInvitation.objects.filter(user=bob).update(created_at=long_ago)
    GroupInvitation.objects.filter(user=bob, declined_at__isnull=False).update(
        declined_at=timezone.now() - timedelta(days=89)
    )
    counts = retention_purge()
    assert counts["chat_requests"] == 2
    assert counts["chat_declined_invitations"] == 0  # 89 days: still kept
    GroupInvitation.objects.filter(user=bob, declined_at__isnull=False).update(declined_at=long_ago)
    assert retention_purge()["chat_declined_invitations"] == 1

    # Alice and Carol see the same thing: the request is gone, told by one event.
    for api, conv in ((alice_api, unanswered), (carol_api, declined)):
        assert api.get(f"{V}/conversations/{conv}").status_code == 404
        assert conv not in _uuids(api.get(f"{V}/conversations"))
        removed = [e for e in _events(api) if e["type"] == "conversation.removed"]
        assert [e["conversation"] for e in removed] == [conv]
    assert not Message.objects.filter(sender__in=[alice, carol]).exists()
    assert not MediaFile.objects.filter(pk=photo.pk).exists()
    # Bob: the pending one left his requests; the fresh one and the accepted stay.
    assert _uuids(bob_api.get(f"{V}/chat/requests")) == [fresh]
    assert accepted in _uuids(bob_api.get(f"{V}/conversations"))
    # A new request starts afresh (a new notice), and the group may invite Bob again.
    again = _start(alice_api, bob)
    assert again != unanswered
    assert set(_uuids(bob_api.get(f"{V}/chat/requests"))) == {fresh, again}
    assert (
        owner_api.post(
            f"{V}/conversations/{groups[0]}/members", {"users": [str(bob.uuid)]}, format="json"
        ).status_code
        == 204
    )
    invited = bob_api.get(f"{V}/chat/invitations").json()["results"]
    assert sorted(i["conversation"] for i in invited) == sorted(groups)
    assert set(retention_purge().values()) == {0}
