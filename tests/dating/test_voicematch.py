"""Voice match (issue 15): pairing rules, anonymity before and after a mutual like,
leaving, timeout, the call's limit, export and erasure. Through the REST API; "has a
live socket" is chat's presence record, which the socket writes when it connects
(tests/dating/test_voicematch_ws.py opens real in-process sockets)."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import Block, User
from accounts.services import user_ban
from chat.models import Call, CallState, Conversation
from chat.presence import FOREGROUND, presence_clear, presence_set
from dating import matching, voicematch
from dating.models import Match, ProfileLike, ProfilePass, VoiceMatchSession
from meetnow.lib import afterresponse
from privacy.lifecycle import erasures_start_due, request_create
from privacy.models import PrivacyRequest
from privacy.retention import retention_purge
from tests.factories.chat import make_direct, make_user
from tests.factories.privacy import run_erasure, run_export
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

VM = "/api/v1/dating/voice-match"


def person(name: str, *, gender: str = "female", age: int = 30) -> User:
    """A user with a profile and a live socket (presence, as the socket records it)."""
    user = make_user(name)
    today = timezone.localdate()
    User.objects.filter(pk=user.pk).update(
        gender=gender, date_of_birth=today.replace(year=today.year - age) - dt.timedelta(days=1)
    )
    user.refresh_from_db()
    presence_set(user_id=user.pk, state=FOREGROUND, connection=f"socket-{user.pk}")
    return user


def enter(user: User, **filters: Any) -> dict[str, Any]:
    response = api_client_for(user).post(VM, filters, format="json")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def state_of(user: User) -> str:
    return str(api_client_for(user).get(VM).json()["state"])


def test_two_compatible_people_are_paired_into_an_anonymous_call() -> None:
    alice, bob = person("alice"), person("bob", gender="male")
    waiting = enter(alice)
    assert waiting["state"] == "waiting"
    assert waiting["session"] is None
    assert waiting["expires_at"]
    assert state_of(alice) == "waiting"

    paired = enter(bob)
    assert paired["state"] == "paired"
    session = paired["session"]
    assert session["role"] == "answerer"  # alice waited longer: she sends the offer
    assert session["match"] is None
    assert session["liked"] is False
    assert state_of(alice) == state_of(bob) == "idle"  # both left the queue

    call = Call.objects.get(uuid=session["call"])
    assert (call.caller_id, call.callee_id) == (alice.pk, bob.pk)
    assert call.state == CallState.ACCEPTED
    assert call.anonymous
    assert call.conversation is None
    assert not Conversation.objects.exists()  # no conversation between strangers
    mine = api_client_for(alice).get(f"{VM}/{session['id']}").json()
    assert mine["role"] == "offerer"
    assert mine["call"] == session["call"]


@pytest.mark.parametrize(
    ("rule", "filters_a", "filters_b", "profile_b"),
    [
        ("a wants men, b is a woman", {"gender": "male"}, {}, {"gender": "female"}),
        ("b wants women, a is a man", {}, {"gender": "female"}, {}),
        ("b too young for a", {"age_min": 30}, {}, {"age": 25}),
        ("b too old for a", {"age_max": 40}, {}, {"age": 45}),
        ("a too old for b", {}, {"age_max": 29}, {}),
        ("a too young for b", {}, {"age_min": 31}, {}),
    ],
)
def test_filters_must_match_both_ways(
    rule: str, filters_a: dict[str, Any], filters_b: dict[str, Any], profile_b: dict[str, Any]
) -> None:
    a = person("a", gender="male", age=30)
    b = person("b", **{"gender": "female", "age": 30, **profile_b})
    enter(a, **filters_a)
    assert enter(b, **filters_b)["state"] == "waiting", rule
    assert state_of(a) == state_of(b) == "waiting"
    # A third person with no filters fits one of them: paired, the other still waits.
    c = person("c", gender="female", age=30)
    assert enter(c)["state"] == "paired"
    assert sorted([state_of(a), state_of(b)]) == ["idle", "waiting"]


def _block(a: User, b: User) -> None:
    Block.objects.create(blocker=a, blocked=b)


def _block_back(a: User, b: User) -> None:
    Block.objects.create(blocker=b, blocked=a)


def _pass(a: User, b: User) -> None:
    matching.profile_pass(user=a, user_uuid=b.uuid)


def _passed_by(a: User, b: User) -> None:
    matching.profile_pass(user=b, user_uuid=a.uuid)


def _matched_before(a: User, b: User) -> None:
    matching.profile_like(user=a, user_uuid=b.uuid)
    match = matching.profile_like(user=b, user_uuid=a.uuid)
    assert match is not None
    matching.match_end(user=a, match_uuid=match.uuid)


def _banned(a: User, b: User) -> None:
    user_ban(user=a)


def _deactivated(a: User, b: User) -> None:
    User.objects.filter(pk=a.pk).update(is_active=False)


def _in_a_call(a: User, b: User) -> None:
    other = person("other")
    conversation = make_direct(a, other)
    Call.objects.create(conversation=conversation, caller=a, callee=other, media="audio")


@pytest.mark.parametrize(
    "rule",
    [_block, _block_back, _pass, _passed_by, _matched_before, _banned, _deactivated, _in_a_call],
)
def test_people_who_must_never_meet_are_not_paired(rule: Callable[[User, User], None]) -> None:
    a, b = person("a"), person("b", gender="male")
    enter(a)
    rule(a, b)
    assert enter(b)["state"] == "waiting"
    assert not VoiceMatchSession.objects.exists()


def test_an_expired_pass_no_longer_keeps_two_people_apart() -> None:
    a, b = person("a"), person("b", gender="male")
    matching.profile_pass(user=a, user_uuid=b.uuid)
    ProfilePass.objects.update(until=timezone.now() - dt.timedelta(minutes=1))
    enter(a)
    assert enter(b)["state"] == "paired"


def test_nobody_is_paired_with_themselves_and_entering_again_refreshes() -> None:
    a = person("a")
    assert enter(a)["state"] == "waiting"
    assert enter(a, gender="male")["state"] == "waiting"  # new filters, still alone
    women_only = person("w", gender="female")
    assert enter(women_only)["state"] == "waiting"  # a now wants men only


def test_entering_needs_a_live_socket_and_no_call() -> None:
    a = person("a")
    presence_clear(user_id=a.pk)
    response = api_client_for(a).post(VM, {}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "socket_required"
    b = person("b")
    _in_a_call(b, a)
    response = api_client_for(b).post(VM, {}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "already_in_call"


def test_voice_match_can_be_reserved_to_verified_accounts(settings: Any) -> None:
    a = person("a")
    assert enter(a)["state"] == "waiting"  # off by default (P7)
    settings.MEETNOW_VERIFIED_ONLY = ["voice_match"]
    response = api_client_for(a).post(VM, {}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "identity_verification_required"


def test_bad_filters_are_a_400() -> None:
    a = person("a")
    client = api_client_for(a)
    for body in ({"age_min": 40, "age_max": 30}, {"gender": "robot"}, {"age_min": 5}, {"x": 1}):
        response = client.post(VM, body, format="json")
        assert response.status_code == 400, body
        assert response.json()["errors"]
    assert state_of(a) == "idle"


def test_leaving_takes_a_person_out_of_the_queue() -> None:
    a, b = person("a"), person("b", gender="male")
    enter(a)
    assert api_client_for(a).delete(VM).status_code == 204
    assert state_of(a) == "idle"
    assert enter(b)["state"] == "waiting"
    assert api_client_for(a).delete(VM).status_code == 204  # idempotent


def test_a_wait_ends_after_60_seconds() -> None:
    a, b = person("a"), person("b", gender="male")
    voicematch.voice_match_enter(user=a, now=time.time() - 61)  # entered 61 s ago
    assert state_of(a) == "idle"
    assert enter(b)["state"] == "waiting"
    # 59 s of waiting is still a wait: b is found.
    assert voicematch.voice_match_enter(user=a, now=time.time() - 59).state == "paired"


def _pair(a: User, b: User) -> dict[str, Any]:
    enter(a)
    body = enter(b)
    assert body["state"] == "paired"
    session: dict[str, Any] = body["session"]
    return session


def test_before_a_mutual_like_nothing_about_the_other_is_shown() -> None:
    alice, bob = person("alice"), person("bob", gender="male")
    session = _pair(alice, bob)
    sid = session["id"]
    a_api, b_api = api_client_for(alice), api_client_for(bob)

    liked = a_api.post(f"{VM}/{sid}/like")
    assert liked.status_code == 200
    assert liked.json() == {"liked": True, "match": None}
    # Bob learns nothing of Alice's like, nor who she is.
    bob_view = b_api.get(f"{VM}/{sid}").json()
    assert bob_view["liked"] is False
    assert bob_view["match"] is None
    assert str(alice.uuid) not in json.dumps(bob_view)
    assert b_api.get("/api/v1/dating/likes/received").json()["results"] == []
    assert not ProfileLike.objects.exists()
    for client, _me, other in ((a_api, alice, bob), (b_api, bob, alice)):
        [call] = client.get("/api/v1/calls").json()["results"]
        assert call["anonymous"] is True
        assert call["peer"] is None
        assert call["caller"] is None
        assert call["callee"] is None
        assert call["conversation"] is None
        detail = client.get(f"/api/v1/calls/{call['uuid']}").json()
        text = json.dumps([call, detail])
        assert str(other.uuid) not in text
        assert other.nickname not in text
    # A stranger cannot see the session.
    stranger = api_client_for(person("eve"))
    assert stranger.get(f"{VM}/{sid}").status_code == 404
    assert stranger.post(f"{VM}/{sid}/like").status_code == 404


def test_a_mutual_like_makes_a_match_and_reveals_both() -> None:
    alice, bob = person("alice"), person("bob", gender="male")
    session = _pair(alice, bob)
    sid = session["id"]
    a_api, b_api = api_client_for(alice), api_client_for(bob)
    assert a_api.post(f"{VM}/{sid}/like").json()["match"] is None
    liked = b_api.post(f"{VM}/{sid}/like").json()
    assert liked["match"]["user"]["id"] == str(alice.uuid)
    assert liked["match"]["conversation"]

    match = Match.objects.get()
    assert {match.user_low_id, match.user_high_id} == {alice.pk, bob.pk}
    for client, other in ((a_api, bob), (b_api, alice)):
        view = client.get(f"{VM}/{sid}").json()
        assert view["match"]["user"]["id"] == str(other.uuid)
        assert view["match"]["user"]["nickname"] == other.nickname
        [call] = client.get("/api/v1/calls").json()["results"]
        assert call["anonymous"] is False
        assert call["peer"]["uuid"] == str(other.uuid)
        matches = client.get("/api/v1/dating/matches").json()["results"]
        assert [m["user"]["id"] for m in matches] == [str(other.uuid)]
    # Liking again changes nothing; the time limit no longer ends the call.
    assert a_api.post(f"{VM}/{sid}/like").json()["match"]["id"] == str(match.uuid)
    vm = VoiceMatchSession.objects.get()
    assert not voicematch.voice_match_time_limit(session_id=vm.pk, now=vm.ends_at)
    assert Call.objects.get().state == CallState.ACCEPTED


def test_the_anonymous_call_ends_at_its_limit_and_a_like_still_counts_after() -> None:
    alice, bob = person("alice"), person("bob", gender="male")
    session = _pair(alice, bob)
    vm = VoiceMatchSession.objects.get()
    assert not voicematch.voice_match_time_limit(session_id=vm.pk)  # early: nothing
    assert voicematch.voice_match_time_limit(session_id=vm.pk, now=vm.ends_at)
    call = Call.objects.get()
    assert call.state == CallState.ENDED
    assert call.outcome == "completed"
    assert not voicematch.voice_match_time_limit(session_id=vm.pk, now=vm.ends_at)
    # After the call: both like, a match.
    api_client_for(alice).post(f"{VM}/{session['id']}/like")
    assert api_client_for(bob).post(f"{VM}/{session['id']}/like").json()["match"]
    # Too late to like after the window.
    carol, dave = person("carol"), person("dave", gender="male")
    late = _pair(carol, dave)
    VoiceMatchSession.objects.filter(uuid=late["id"]).update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    response = api_client_for(carol).post(f"{VM}/{late['id']}/like")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "like_window_closed"


def test_a_like_toward_someone_blocked_or_banned_since_is_refused() -> None:
    alice, bob = person("alice"), person("bob", gender="male")
    session = _pair(alice, bob)
    Block.objects.create(blocker=bob, blocked=alice)
    assert api_client_for(alice).post(f"{VM}/{session['id']}/like").status_code == 404
    Block.objects.all().delete()
    user_ban(user=bob)
    assert api_client_for(alice).post(f"{VM}/{session['id']}/like").status_code == 404
    assert not Match.objects.exists()


def _archive(user: User) -> zipfile.ZipFile:
    export = request_create(user=user, kind="access", identity_confirmed=True)
    assert run_export(export) == "done"
    export.refresh_from_db()
    with default_storage.open(export.archive_key, "rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def test_export_shows_the_other_person_only_after_a_match_and_erasure_deletes() -> None:
    me, stranger, crush = person("me"), person("stranger", gender="male"), person("crush")
    first = _pair(me, stranger)
    api_client_for(me).post(f"{VM}/{first['id']}/like")
    api_client_for(stranger).delete(VM)
    Call.objects.update(state=CallState.ENDED, outcome="completed", ended_at=timezone.now())
    second = _pair(me, crush)
    api_client_for(me).post(f"{VM}/{second['id']}/like")
    api_client_for(crush).post(f"{VM}/{second['id']}/like")

    rows = json.loads(_archive(me).read("dating_voice_matches.json"))
    by_id = {row["uuid"]: row for row in rows}
    assert by_id[first["id"]]["user"] is None
    assert by_id[first["id"]]["match"] is None
    assert by_id[first["id"]]["liked_at"]
    assert by_id[second["id"]]["user"] == str(crush.uuid)
    # The stranger's export never names me, nor tells them I liked them.
    archive = _archive(stranger)
    theirs = json.loads(archive.read("dating_voice_matches.json"))
    assert [row["user"] for row in theirs] == [None]
    assert [row["liked_at"] for row in theirs] == [None]
    calls = json.loads(archive.read("calls.json"))
    assert str(me.uuid) not in json.dumps(calls)

    erasure = request_create(user=me, kind="erasure", identity_confirmed=True)
    PrivacyRequest.objects.filter(pk=erasure.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)
    )
    assert erasures_start_due() == [erasure.pk]
    assert run_erasure(erasure) == "done"
    assert not VoiceMatchSession.objects.exists()


def test_retention_purges_old_sessions() -> None:
    alice, bob = person("alice"), person("bob", gender="male")
    _pair(alice, bob)
    now = timezone.now()
    assert retention_purge(now=now)["dating_voice_match"] == 0
    assert retention_purge(now=now + dt.timedelta(days=31))["dating_voice_match"] == 1
    assert not VoiceMatchSession.objects.exists()


def test_a_revealed_voice_match_hides_the_other_once_blocked_or_banned() -> None:
    """After a mutual like the session shows the other's card, but not once a block
    stands between them or the other is banned (P11)."""
    alice, bob = person("alice"), person("bob", gender="male")
    sid = _pair(alice, bob)["id"]
    a_api, b_api = api_client_for(alice), api_client_for(bob)
    a_api.post(f"{VM}/{sid}/like")
    assert b_api.post(f"{VM}/{sid}/like").json()["match"]["user"]["id"] == str(alice.uuid)
    Block.objects.create(blocker=alice, blocked=bob)
    for client, other in ((a_api, bob), (b_api, alice)):
        view = client.get(f"{VM}/{sid}")
        assert view.status_code == 200
        assert view.json()["match"] is None
        assert str(other.uuid) not in json.dumps(view.json())
    Block.objects.all().delete()
    assert a_api.get(f"{VM}/{sid}").json()["match"]["user"]["id"] == str(bob.uuid)
    user_ban(user=bob)
    assert a_api.get(f"{VM}/{sid}").json()["match"] is None


def test_the_compiled_candidate_check_agrees_with_the_orm() -> None:
    """eligible_partners runs SQL compiled once per process on PostgreSQL; it keeps and
    drops exactly whom the ORM query it was compiled from does."""
    me = person("me", gender="male")
    others = [person(f"o{i}") for i in range(7)]
    _block(me, others[0])
    _block_back(me, others[1])
    _pass(me, others[2])
    _matched_before(me, others[3])
    _banned(others[4], me)
    _in_a_call(others[5], me)
    expired = others[6]
    matching.profile_pass(user=expired, user_uuid=me.uuid)
    ProfilePass.objects.filter(from_user=expired).update(
        until=timezone.now() - dt.timedelta(minutes=1)
    )
    fine = person("fine")
    ids = [o.pk for o in others] + [fine.pk, me.pk, 10**9]
    now = timezone.now()
    expected = set(voicematch._eligible(me.pk, ids, now).values_list("pk", flat=True))
    assert expected == {expired.pk, fine.pk}
    assert voicematch.eligible_partners(user_id=me.pk, candidate_ids=ids) == expected
    assert voicematch.eligible_partners(user_id=me.pk, candidate_ids=[]) == set()


def test_the_queue_is_read_page_by_page_past_people_who_do_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More people who do not fit than a page wait ahead (some entered at the same
    instant): the entrant still gets the longest-waiting one who fits."""
    monkeypatch.setattr(voicematch, "PAGE", 3)
    at = time.time()
    for i in range(8):  # 30, wanting 60 or older: nobody here fits; 4 at one instant
        man = person(f"m{i}", gender="male")
        voicematch.voice_match_enter(user=man, age_min=60, now=at + (i // 4) * 0.01)
    first, second = person("w1", gender="male"), person("w2", gender="male")
    voicematch.voice_match_enter(user=first, gender="female", now=at + 1)
    voicematch.voice_match_enter(user=second, gender="female", now=at + 2)
    state = voicematch.voice_match_enter(user=person("her"), now=at + 3)
    assert state.state == "paired"
    assert state.session is not None
    assert state.session.caller_id == first.pk


def test_a_pairing_costs_seven_queries(django_assert_num_queries: Any) -> None:
    """Session user, the entrant's call check, the candidate check, both rows locked,
    block-and-call check, the call, the session inserted if the caller is still
    visible after the lock (one statement); the answer is built from what was written
    (no read back). Plus the test's own savepoint pair around the transaction."""
    alice, bob = person("alice"), person("bob", gender="male")
    enter(alice)
    client = api_client_for(bob)
    with django_assert_num_queries(9):
        response = client.post(VM, {}, format="json")
    assert response.json()["state"] == "paired"
    assert response.json()["session"]["match"] is None


@pytest.mark.parametrize("change", [_banned, _deactivated])
def test_someone_banned_or_deactivated_after_the_candidate_check_is_not_called(
    change: Callable[[User, User], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ban lands between the candidate check and the call: the session's insert
    (after both rows are locked) sees it, so no call and no session are left, and the
    entrant gets the next one who waits."""
    first, second = person("w1"), person("w2")
    enter(first, gender="male")
    enter(second, gender="male")
    him = person("him", gender="male")
    checked = voicematch.eligible_partners

    def then_changed(*, user_id: int, candidate_ids: list[int]) -> set[int]:
        allowed = checked(user_id=user_id, candidate_ids=candidate_ids)
        change(first, him)
        return allowed

    monkeypatch.setattr(voicematch, "eligible_partners", then_changed)
    paired = enter(him, gender="female")
    assert paired["state"] == "paired"
    session = VoiceMatchSession.objects.get()
    assert session.uuid == uuid.UUID(paired["session"]["id"])
    assert (session.caller_id, session.callee_id) == (second.pk, him.pk)
    call = Call.objects.get()
    assert (call.caller_id, call.callee_id, call.state) == (second.pk, him.pk, CallState.ACCEPTED)
    assert paired["session"]["call"] == str(call.uuid)


def test_the_session_answered_is_the_one_stored() -> None:
    """The entrant's answer is built from the session as inserted (no read back): it
    is what both sides read afterwards."""
    alice, bob = person("alice"), person("bob", gender="male")
    enter(alice)
    paired = enter(bob)["session"]
    stored = api_client_for(bob).get(f"{VM}/{paired['id']}").json()
    assert stored == paired
    assert api_client_for(alice).get(f"{VM}/{paired['id']}").json() == {
        **paired,
        "role": "offerer",
    }


def test_the_call_limit_is_counted_down_once_the_answer_has_gone(
    celery_sent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Both sockets get the call on commit; the countdown to the call's limit is
    enqueued after the entrant's answer (the broker round trip is not theirs to wait
    for)."""
    alice, bob = person("alice"), person("bob", gender="male")
    enter(alice)
    afterresponse.collect()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            state = voicematch.voice_match_enter(user=bob)
        assert state.state == "paired"
        assert not celery_sent.named("default.dating_voice_match_limit")
    finally:
        afterresponse.run_collected()
    [task] = celery_sent.named("default.dating_voice_match_limit")
    assert state.session is not None
    assert task.args == (state.session.pk,)


def test_only_a_ringing_or_answered_call_keeps_someone_from_entering() -> None:
    a, other = person("a"), person("other")
    call = Call.objects.create(
        conversation=make_direct(a, other), caller=other, callee=a, media="audio"
    )
    for state, outcome, code in (
        (CallState.RINGING, "", 409),
        (CallState.ACCEPTED, "", 409),
        (CallState.ENDED, "completed", 200),
    ):
        Call.objects.filter(pk=call.pk).update(state=state, outcome=outcome)
        response = api_client_for(a).post(VM, {}, format="json")
        assert response.status_code == code, state
    assert state_of(a) == "waiting"
