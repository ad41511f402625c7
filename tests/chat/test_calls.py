"""Calls (issue 8): rules, state machine, system messages, REST fallback, history, TURN."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.conf import LazySettings
from django.db import IntegrityError, transaction
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks

from accounts.models import User
from chat.calls import services as calls
from chat.calls.push import call_push_send
from chat.models import Call, CallOutcome, CallState, Conversation, Message, MessageKind
from meetnow.lib.errors import ApplicationError
from tests.factories.chat import make_block, make_device, make_direct, make_group, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 192.0.2.7\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 198.51.100.9\r\n"}


def _invite(caller: User, conversation: Conversation, media: str = "audio") -> Call:
    return calls.call_invite(
        caller=caller, conversation_uuid=conversation.uuid, media=media, offer=OFFER
    )


def _system(conversation: Conversation) -> list[Message]:
    return list(
        Message.objects.filter(conversation=conversation, kind=MessageKind.SYSTEM)
        .exclude(system__action="direct_created")
        .order_by("id")
    )


def _call_messages(conversation: Conversation) -> list[Message]:
    return [m for m in _system(conversation) if (m.system or {}).get("action") == "call"]


# --- Rules ----------------------------------------------------------------------------


def test_invite_rings_and_stores_no_sdp(alice: User, bob: User) -> None:
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation, "video")
    call.refresh_from_db()
    assert (call.state, call.outcome, call.media) == (CallState.RINGING, "", "video")
    assert call.caller == alice
    assert call.callee == bob
    # P11: nothing of the offer anywhere in the row.
    stored = " ".join(str(getattr(call, f.attname)) for f in Call._meta.concrete_fields)
    assert "192.0.2.7" not in stored
    assert "v=0" not in stored
    assert _call_messages(conversation) == []


def test_only_members_of_a_direct_conversation_can_call(
    alice: User, bob: User, carol: User
) -> None:
    direct = make_direct(alice, bob)
    with pytest.raises(ApplicationError) as err:
        _invite(carol, direct)
    assert err.value.status_code == 404
    group = make_group(alice, bob, carol)
    with pytest.raises(ApplicationError) as err:
        _invite(alice, group)
    assert err.value.code == "not_direct"
    with pytest.raises(ApplicationError) as err:
        calls.call_invite(caller=alice, conversation_uuid=direct.uuid, media="fax")
    assert err.value.code == "invalid_media"


@pytest.mark.parametrize("blocker_is_callee", [True, False])
def test_blocked_users_cannot_call(alice: User, bob: User, blocker_is_callee: bool) -> None:
    conversation = make_direct(alice, bob)
    if blocker_is_callee:
        make_block(bob, alice)
    else:
        make_block(alice, bob)
    with pytest.raises(ApplicationError) as err:
        _invite(alice, conversation)
    assert (err.value.code, err.value.status_code) == ("blocked", 403)
    assert not Call.objects.exists()


def test_busy_callee_gets_a_busy_record_and_caller_in_a_call_is_refused(
    alice: User, bob: User, carol: User
) -> None:
    ab = make_direct(alice, bob)
    cb = make_direct(carol, bob)
    ca = make_direct(carol, alice)
    _invite(alice, ab)
    busy = _invite(carol, cb)
    assert (busy.state, busy.outcome) == (CallState.ENDED, CallOutcome.BUSY)
    [message] = _call_messages(cb)
    assert message.system is not None
    assert message.system["outcome"] == "busy"
    assert message.system["caller"] == str(carol.uuid)
    # Alice is the caller of a ringing call: she can neither be called nor call.
    assert _invite(carol, ca).outcome == CallOutcome.BUSY
    with pytest.raises(ApplicationError) as err:
        _invite(alice, ca)
    assert (err.value.code, err.value.status_code) == ("already_in_call", 409)


def test_the_database_refuses_a_second_active_call_per_user(
    alice: User, bob: User, carol: User
) -> None:
    ab = make_direct(alice, bob)
    _invite(alice, ab)
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.create(conversation=ab, caller=alice, callee=carol, media="audio")
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.create(conversation=ab, caller=carol, callee=bob, media="audio")
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.create(
            conversation=ab, caller=alice, callee=bob, media="audio", state="ended"
        )  # ended needs an outcome


# --- Transitions and system messages ----------------------------------------------------------


def test_accept_then_hangup_completes_with_duration(alice: User, bob: User) -> None:
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    calls.call_accept(user=bob, call_uuid=call.uuid, answer=ANSWER)
    Call.objects.filter(pk=call.pk).update(accepted_at=timezone.now() - timedelta(seconds=75))
    ended = calls.call_end(user=alice, call_uuid=call.uuid, action="hangup")
    assert (ended.state, ended.outcome) == (CallState.ENDED, CallOutcome.COMPLETED)
    assert 75 <= ended.duration_seconds <= 77
    [message] = _call_messages(conversation)
    assert message.sender is None
    assert message.system == {
        "action": "call",
        "call": str(call.uuid),
        "media": "audio",
        "caller": str(alice.uuid),
        "outcome": "completed",
        "duration_seconds": ended.duration_seconds,
    }
    # A second hang-up (the other side, a retry) is a clear 409 and no second message.
    with pytest.raises(ApplicationError) as err:
        calls.call_end(user=bob, call_uuid=call.uuid, action="hangup")
    assert (err.value.code, err.value.status_code) == ("call_ended", 409)
    assert len(_call_messages(conversation)) == 1


@pytest.mark.parametrize(
    ("who", "action", "outcome"),
    [
        ("bob", "decline", "declined"),
        ("alice", "cancel", "cancelled"),
        ("alice", "hangup", "cancelled"),
        ("bob", "hangup", "declined"),
    ],
)
def test_ending_a_ringing_call(alice: User, bob: User, who: str, action: str, outcome: str) -> None:
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    ended = calls.call_end(
        user={"alice": alice, "bob": bob}[who], call_uuid=call.uuid, action=action
    )
    assert (ended.state, ended.outcome, ended.duration_seconds) == ("ended", outcome, 0)
    assert [(m.system or {}).get("outcome") for m in _call_messages(conversation)] == [outcome]


def test_a_call_cannot_be_both_cancelled_and_accepted(alice: User, bob: User, carol: User) -> None:
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    calls.call_end(user=alice, call_uuid=call.uuid, action="cancel")
    with pytest.raises(ApplicationError) as err:
        calls.call_accept(user=bob, call_uuid=call.uuid)
    assert (err.value.code, err.value.status_code) == ("call_ended", 409)
    assert Call.objects.get(pk=call.pk).outcome == "cancelled"
    # Roles: the caller cannot answer, the callee cannot cancel, others see nothing.
    call2 = _invite(alice, conversation)
    with pytest.raises(ApplicationError) as err:
        calls.call_accept(user=alice, call_uuid=call2.uuid)
    assert err.value.code == "not_callee"
    with pytest.raises(ApplicationError) as err:
        calls.call_end(user=bob, call_uuid=call2.uuid, action="cancel")
    assert err.value.code == "not_caller"
    with pytest.raises(ApplicationError) as err:
        calls.call_end(user=carol, call_uuid=call2.uuid, action="hangup")
    assert err.value.status_code == 404


def test_unanswered_call_is_missed_after_the_timeout(
    alice: User, bob: User, settings: LazySettings
) -> None:
    settings.MEETNOW_CALL_RING_TIMEOUT = 45
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    assert calls.call_expire(call_id=call.pk) is False  # too early: nothing happens
    Call.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(seconds=46))
    assert calls.call_expire(call_id=call.pk) is True
    assert calls.call_expire(call_id=call.pk) is False  # delivered twice: idempotent
    call.refresh_from_db()
    assert (call.state, call.outcome) == ("ended", "missed")
    assert [(m.system or {}).get("outcome") for m in _call_messages(conversation)] == ["missed"]


def test_overdue_ringing_call_is_missed_on_read_and_does_not_make_anyone_busy(
    alice: User, bob: User
) -> None:
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    Call.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    # The countdown task was lost: the next invite still works.
    again = _invite(bob, conversation)
    assert again.state == "ringing"
    assert Call.objects.get(pk=call.pk).outcome == "missed"


def test_invite_enqueues_the_ring_timeout_and_a_push_for_an_offline_callee(
    alice: User,
    bob: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    settings: LazySettings,
) -> None:
    settings.PUSH_BACKEND = "log"
    make_device(bob)
    conversation = make_direct(alice, bob)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _invite(alice, conversation)
    # live frame, push task, ring timeout task
    assert len(callbacks) == 3


def test_call_push_goes_once_per_device_while_ringing(
    alice: User, bob: User, settings: LazySettings
) -> None:
    settings.PUSH_BACKEND = "log"
    make_device(bob)
    make_device(bob, platform="ios")
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    assert call_push_send(call_id=call.pk, kind="call") == 2
    assert call_push_send(call_id=call.pk, kind="call") == 0
    calls.call_end(user=alice, call_uuid=call.uuid, action="cancel")
    assert call_push_send(call_id=call.pk, kind="call_end") == 2
    call2 = _invite(alice, conversation)
    calls.call_end(user=alice, call_uuid=call2.uuid, action="cancel")
    assert call_push_send(call_id=call2.pk, kind="call") == 0  # no longer ringing


def test_grace_check_ends_a_call_only_when_both_sockets_are_gone(alice: User, bob: User) -> None:
    from chat.presence import BACKGROUND, presence_clear, presence_set

    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    calls.call_accept(user=bob, call_uuid=call.uuid)
    presence_set(user_id=bob.pk, state=BACKGROUND)
    assert calls.call_grace_check(call_uuid=call.uuid) is False
    presence_clear(user_id=bob.pk)
    assert calls.call_grace_check(call_uuid=call.uuid) is True
    assert Call.objects.get(pk=call.pk).outcome == "completed"


# --- REST -------------------------------------------------------------------------------------


def test_rest_accept_from_a_push_then_hangup(alice: User, bob: User) -> None:
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    response = api_client_for(bob).post(f"/api/v1/calls/{call.uuid}/accept", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "accepted"
    assert body["direction"] == "incoming"
    assert body["peer"]["uuid"] == str(alice.uuid)
    again = api_client_for(bob).post(f"/api/v1/calls/{call.uuid}/accept", {}, format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "invalid_state"
    done = api_client_for(alice).post(f"/api/v1/calls/{call.uuid}/hangup", format="json")
    assert done.json()["outcome"] == "completed"


def test_rest_bad_input_is_a_4xx_in_the_single_shape(alice: User, bob: User, carol: User) -> None:
    conversation = make_direct(alice, bob)
    call = _invite(alice, conversation)
    api = api_client_for(bob)
    cases = [
        (api.post("/api/v1/calls/not-a-uuid/accept", {}, format="json"), 404),
        (api.post(f"/api/v1/calls/{call.uuid}/accept", {"sdp": "x"}, format="json"), 400),
        (api.post(f"/api/v1/calls/{call.uuid}/accept", {"nope": 1}, format="json"), 400),
        (api.post(f"/api/v1/calls/{call.uuid}/decline", {"sdp": {}}, format="json"), 400),
        (api_client_for(carol).post(f"/api/v1/calls/{call.uuid}/hangup"), 404),
        (api_client_for(carol).get(f"/api/v1/calls/{call.uuid}"), 404),
        (api.post(f"/api/v1/calls/{call.uuid}/cancel"), 403),
    ]
    for response, status in cases:
        assert response.status_code == status, response.content
        body = response.json()
        assert body["status"] == status
        assert body["errors"][0]["code"]


@pytest.mark.parametrize("size", [2, 7])
def test_history_has_a_fixed_query_count(
    alice: User, size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    for i in range(size):
        other = make_user(f"o{i}")
        conversation = make_direct(alice, other)
        caller = alice if i % 2 else other
        call = _invite(caller, conversation)
        calls.call_end(user=caller, call_uuid=call.uuid, action="cancel")
    api = api_client_for(alice)
    # auth, overdue ringing calls (none), one page with callers, callees, conversations.
    with django_assert_num_queries(3):
        response = api.get("/api/v1/calls")
    results = response.json()["results"]
    assert len(results) == size
    assert {r["direction"] for r in results} == {"incoming", "outgoing"}
    assert all(r["outcome"] == "cancelled" for r in results)
    page = api.get("/api/v1/calls", {"limit": 1}).json()
    assert page["next"]
    assert len(page["results"]) == 1


def test_ice_servers_give_time_limited_turn_credentials(
    alice: User, settings: LazySettings
) -> None:
    settings.MEETNOW_STUN_URLS = ["stun:stun.example.org:3478"]
    settings.MEETNOW_TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.MEETNOW_TURN_SECRET = "s3cret"
    settings.MEETNOW_TURN_TTL = 600
    before = int(time.time())
    response = api_client_for(alice).get("/api/v1/calls/ice-servers")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["ttl"] == 600
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    expiry, user_uuid = turn["username"].split(":")
    assert user_uuid == str(alice.uuid)
    assert before + 600 <= int(expiry) <= int(time.time()) + 600
    expected = hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(expected).decode()
    # Without a secret no TURN server is offered (never a static password).
    settings.MEETNOW_TURN_SECRET = ""
    body = api_client_for(alice).get("/api/v1/calls/ice-servers").json()
    assert body["ice_servers"] == [{"urls": ["stun:stun.example.org:3478"]}]


# --- Races (threads with their own connections; PostgreSQL in CI) -----------------------------


def _race(works: list[Callable[[], Any]]) -> list[Any]:
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = works[i]()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_accept_and_cancel_one_wins(alice: User, bob: User) -> None:
    conversation = make_direct(alice, bob)
    for _ in range(3):
        call = _invite(alice, conversation)
        results = _race(
            [
                partial(calls.call_accept, user=bob, call_uuid=call.uuid),
                partial(calls.call_end, user=alice, call_uuid=call.uuid, action="cancel"),
            ]
        )
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) <= 1, errors
        assert all(getattr(e, "status_code", None) == 409 for e in errors), errors
        call.refresh_from_db()
        if call.state == "accepted":
            assert isinstance(results[0], Call)
            calls.call_end(user=alice, call_uuid=call.uuid, action="hangup")
        else:
            assert call.outcome == "cancelled"
        assert call.state != "ringing"
    # One system message per call, whatever won.
    assert len(_call_messages(conversation)) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_invites_to_one_person_ring_once() -> None:
    bob = make_user("bob")
    callers = [make_user(f"c{i}") for i in range(4)]
    conversations = [make_direct(c, bob) for c in callers]
    results = _race(
        [partial(_invite, c, conv) for c, conv in zip(callers, conversations, strict=True)]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    states = sorted((r.state, r.outcome) for r in results)
    assert states == [("ended", "busy")] * 3 + [("ringing", "")]
    assert Call.objects.filter(callee=bob, state="ringing").count() == 1


def test_admin_call_history_is_read_only_with_a_fixed_query_count(alice: User) -> None:
    from accounts.services import staff_create
    from tests.chat.conftest import admin_client_for

    staff = staff_create(username="root", password="x-Very-long-pass-123", superuser=True)
    client = admin_client_for(staff)
    counts = []
    for size in (2, 6):
        while Call.objects.count() < size:
            other = make_user()
            call = _invite(alice, make_direct(alice, other))
            calls.call_end(user=alice, call_uuid=call.uuid, action="cancel")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get("/admin/chat/call/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    detail = client.get(f"/admin/chat/call/{Call.objects.latest('id').pk}/change/")
    assert detail.status_code == 200
    assert client.get("/admin/chat/call/add/").status_code == 403


def test_a_stale_answered_call_without_sockets_does_not_keep_the_callee_busy(
    alice: User, bob: User, carol: User
) -> None:
    ab = make_direct(alice, bob)
    call = _invite(alice, ab)
    calls.call_accept(user=bob, call_uuid=call.uuid)
    # Both sockets vanished and the grace check was lost with its ASGI process.
    fresh = _invite(carol, make_direct(carol, bob))
    assert fresh.state == "ringing"
    assert Call.objects.get(pk=call.pk).outcome == "completed"


@pytest.mark.parametrize("rule", ["blocked", "blocked_back", "caller_busy", "callee_busy"])
def test_an_anonymous_call_is_refused_like_an_invite(
    alice: User, bob: User, carol: User, rule: str
) -> None:
    if rule == "blocked":
        make_block(alice, bob)
    elif rule == "blocked_back":
        make_block(bob, alice)
    else:
        busy = alice if rule == "caller_busy" else bob
        Call.objects.create(
            conversation=make_direct(busy, carol), caller=busy, callee=carol, media="audio"
        )
    before = Call.objects.count()
    with pytest.raises(ApplicationError) as refused, transaction.atomic():
        calls.call_start_anonymous(caller_id=alice.pk, callee_id=bob.pk)
    assert refused.value.code == ("blocked" if rule.startswith("blocked") else "already_in_call")
    assert Call.objects.count() == before


def test_an_anonymous_call_names_nobody_and_tells_both_after_commit(
    alice: User, bob: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        call = calls.call_start_anonymous(
            caller_id=alice.pk, callee_id=bob.pk, extra={bob.pk: {"x": 1}}
        )
    assert len(callbacks) == 1
    call.refresh_from_db()
    assert (call.state, call.anonymous, call.conversation_id) == (CallState.ACCEPTED, True, None)
    assert calls.call_payload(call)["caller"] is None
