"""Issue 15, first piece: likes between people, passes, matches, unmatch, discover."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile
from typing import Any

import pytest
from django.conf import LazySettings
from django.core.files.storage import default_storage
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks

from accounts.models import Block
from accounts.services import user_ban
from chat.models import Conversation
from chat.push import LogBackend
from dating import matching
from dating.models import Match, ProfileLike, ProfilePass
from privacy.lifecycle import erasures_start_due, request_create
from privacy.models import PrivacyRequest
from privacy.retention import retention_purge
from tests.factories.chat import make_device, make_user
from tests.factories.dating import make_post
from tests.factories.privacy import run_erasure, run_export
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

D = "/api/v1/dating"


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str, dict[str, str]]]:
    sent: list[tuple[int, str, dict[str, str]]] = []

    def send(self: Any, device: Any, note: Any) -> bool:
        sent.append((device.user_id, note.kind, dict(note.data)))
        return True

    monkeypatch.setattr(LogBackend, "send", send)
    return sent


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [
        item["user"]["id"] if "user" in item else item["id"] for item in response.json()["results"]
    ]


def test_mutual_like_makes_a_match_with_a_conversation_events_and_pushes(
    pushes: list[tuple[int, str, dict[str, str]]],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    make_device(alice)
    make_device(bob)
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)

    first = alice_api.post(f"{D}/users/{bob.uuid}/like")
    assert first.json() == {"liked": True, "match": None}
    # Private until mutual: Bob sees it only in his own who-liked-me list.
    assert _ids(bob_api.get(f"{D}/likes/received")) == [str(alice.uuid)]
    assert _ids(alice_api.get(f"{D}/likes/received")) == []
    assert alice_api.get(f"{D}/matches").json()["results"] == []

    with django_capture_on_commit_callbacks(execute=True):
        second = bob_api.post(f"{D}/users/{alice.uuid}/like").json()
    match = second["match"]
    assert match["user"]["id"] == str(alice.uuid)
    conversation = Conversation.objects.get(uuid=match["conversation"])
    assert conversation.kind == "direct"
    assert _ids(alice_api.get(f"{D}/matches")) == [str(bob.uuid)]
    assert _ids(bob_api.get(f"{D}/likes/received")) == []  # answered
    for api, other in ((alice_api, bob), (bob_api, alice)):
        events = api.get("/api/v1/sync", {"since": 0}).json()["events"]
        matched = [e for e in events if e["type"] == "dating.matched"]
        assert [(e["match"], e["user"]) for e in matched] == [(match["id"], str(other.uuid))]
    assert sorted(pushes) == sorted(
        [(u.pk, "dating_match", {"match": match["id"]}) for u in (alice, bob)]
    )
    # They can talk.
    sent = alice_api.post(
        f"/api/v1/conversations/{conversation.uuid}/messages",
        {"client_id": str(uuid.uuid4()), "text": "hi"},
        format="json",
    )
    assert sent.status_code == 201
    # Liking again changes nothing.
    assert alice_api.post(f"{D}/users/{bob.uuid}/like").json()["match"]["id"] == match["id"]


def test_unmatch_closes_the_conversation_for_both_and_a_new_mutual_like_reopens_it() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    matching.profile_like(user=alice, user_uuid=bob.uuid)
    match = matching.profile_like(user=bob, user_uuid=alice.uuid)
    assert match is not None
    assert match.conversation is not None
    conv = match.conversation.uuid
    api_client_for(alice).post(
        f"/api/v1/conversations/{conv}/messages",
        {"client_id": str(uuid.uuid4()), "text": "before"},
        format="json",
    )
    assert api_client_for(alice).delete(f"{D}/matches/{match.uuid}").status_code == 204
    assert api_client_for(alice).delete(f"{D}/matches/{match.uuid}").status_code == 404

    for api in (api_client_for(alice), api_client_for(bob)):
        refused = api.post(
            f"/api/v1/conversations/{conv}/messages",
            {"client_id": str(uuid.uuid4()), "text": "after"},
            format="json",
        )
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["code"] == "conversation_closed"
        history = api.get(f"/api/v1/conversations/{conv}/messages").json()["results"]
        assert [m["text"] for m in history if m["kind"] == "text"] == ["before"]
        assert api.get(f"/api/v1/conversations/{conv}").json()["closed"] is True
        assert api.get(f"{D}/matches").json()["results"] == []
    bob_events = api_client_for(bob).get("/api/v1/sync", {"since": 0}).json()["events"]
    ended = [e for e in bob_events if e["type"] == "dating.match_ended"]
    assert ended == [{**ended[0], "match": str(match.uuid)}]
    assert set(ended[0]) == {"type", "seq", "match"}  # no reason, nothing else
    # Not a block: they can find each other and match again.
    assert str(bob.uuid) in _ids(api_client_for(alice).get(f"{D}/discover"))
    matching.profile_like(user=bob, user_uuid=alice.uuid)
    again = api_client_for(alice).post(f"{D}/users/{bob.uuid}/like").json()["match"]
    assert again["id"] != str(match.uuid)
    assert again["conversation"] == str(conv)
    assert api_client_for(bob).get(f"/api/v1/conversations/{conv}").json()["closed"] is False


def test_pass_hides_from_discover_and_who_liked_me_for_a_while(settings: LazySettings) -> None:
    me, suitor, other = make_user("me"), make_user("suitor"), make_user("other")
    matching.profile_like(user=suitor, user_uuid=me.uuid)
    api = api_client_for(me)
    assert set(_ids(api.get(f"{D}/discover"))) == {str(suitor.uuid), str(other.uuid)}
    assert api.post(f"{D}/users/{suitor.uuid}/pass").status_code == 204
    assert _ids(api.get(f"{D}/discover")) == [str(other.uuid)]
    assert _ids(api.get(f"{D}/likes/received")) == []
    # A pass of 30 days: after that the person is back, and the purge forgets the pass.
    ProfilePass.objects.update(until=timezone.now() - dt.timedelta(seconds=1))
    assert str(suitor.uuid) in _ids(api.get(f"{D}/discover"))
    assert retention_purge()["dating_passes"] == 1
    assert not ProfilePass.objects.exists()
    # Liked people and matches are not in discover either.
    api.post(f"{D}/users/{other.uuid}/like")
    assert str(other.uuid) not in _ids(api.get(f"{D}/discover"))


def test_accounts_discover_leaves_out_people_i_passed_liked_or_matched(
    settings: LazySettings,
) -> None:
    """``GET /api/v1/discover`` (accounts') applies dating's exclusions through the
    ``MEETNOW_DISCOVER_EXCLUSIONS`` hook: the same people as dating's discover."""
    settings.DATING_PASS_DAYS = 7
    me = make_user("me")
    passed, liked, matched, fan, fresh = (
        make_user(n) for n in ("passed", "liked", "matched", "fan", "fresh")
    )
    hidden, blocked, banned, gone = (make_user(n) for n in ("hidden", "blocked", "banned", "gone"))
    hidden.hidden_from_discover = True
    hidden.save(update_fields=["hidden_from_discover"])
    Block.objects.create(blocker=blocked, blocked=me)
    user_ban(user=banned)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    api = api_client_for(me)
    assert api.post(f"{D}/users/{passed.uuid}/pass").status_code == 204
    assert api.post(f"{D}/users/{liked.uuid}/like").status_code == 200
    matching.profile_like(user=matched, user_uuid=me.uuid)
    assert api.post(f"{D}/users/{matched.uuid}/like").json()["match"] is not None
    matching.profile_like(user=fan, user_uuid=me.uuid)  # liking me does not hide them
    matching.profile_pass(user=fresh, user_uuid=me.uuid)  # nor passing on me
    expected = {str(fan.uuid), str(fresh.uuid)}
    assert set(_ids(api.get("/api/v1/discover"))) == expected
    assert set(_ids(api.get(f"{D}/discover"))) == expected
    # The pass hides for DATING_PASS_DAYS only; an ended match is forgotten (not a block).
    ProfilePass.objects.filter(from_user=me).update(until=timezone.now() - dt.timedelta(seconds=1))
    assert matching.profile_pass(user=me, user_uuid=fresh.uuid).until > timezone.now() + (
        dt.timedelta(days=6)
    )
    match = Match.objects.get()
    matching.match_end(user=me, match_uuid=match.uuid)
    assert set(_ids(api.get("/api/v1/discover"))) == {str(fan.uuid), str(passed.uuid)} | {
        str(matched.uuid)
    }


@pytest.mark.parametrize("size", [2, 6])
def test_accounts_discover_has_a_fixed_query_count_with_likes_passes_and_matches(
    size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    me = make_user("me")
    for i in range(size):
        matching.profile_like(user=me, user_uuid=make_user(f"liked{i}").uuid)
        matching.profile_pass(user=me, user_uuid=make_user(f"passed{i}").uuid)
        friend = make_user(f"friend{i}")
        matching.profile_like(user=friend, user_uuid=me.uuid)
        matching.profile_like(user=me, user_uuid=friend.uuid)
        make_user(f"new{i}")
    api = api_client_for(me)
    with django_assert_num_queries(2):  # the session's user, the page
        assert len(api.get("/api/v1/discover", {"limit": 50}).json()["results"]) == size


def test_discover_filters_by_age_and_gender() -> None:
    me = make_user("me")
    young, old = make_user("young"), make_user("old")
    young.date_of_birth = timezone.localdate() - dt.timedelta(days=365 * 21)
    young.gender = "male"
    old.date_of_birth = timezone.localdate() - dt.timedelta(days=365 * 40)
    old.gender = "female"
    for u in (young, old):
        u.save(update_fields=["date_of_birth", "gender"])
    api = api_client_for(me)
    assert _ids(api.get(f"{D}/discover", {"age_min": 18, "age_max": 30})) == [str(young.uuid)]
    assert _ids(api.get(f"{D}/discover", {"gender": "female"})) == [str(old.uuid)]
    bad = api.get(f"{D}/discover", {"age_min": 40, "age_max": 30})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["param"] == "age_min"


def test_liking_is_refused_toward_self_blocked_banned_and_deactivated() -> None:
    me = make_user("me")
    blocked, blocker, banned, gone = (make_user(n) for n in ("b1", "b2", "b3", "b4"))
    Block.objects.create(blocker=me, blocked=blocked)
    Block.objects.create(blocker=blocker, blocked=me)
    user_ban(user=banned)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    api = api_client_for(me)
    own = api.post(f"{D}/users/{me.uuid}/like")
    assert own.status_code == 400
    assert own.json()["errors"][0]["code"] == "cannot_like_self"
    for target in (blocked, blocker, banned, gone):
        assert api.post(f"{D}/users/{target.uuid}/like").status_code == 404
    assert not ProfileLike.objects.exists()


def test_daily_like_limit(settings: LazySettings) -> None:
    settings.DATING_DAILY_LIKES = 2
    me = make_user("me")
    targets = [make_user(f"t{i}") for i in range(3)]
    api = api_client_for(me)
    codes = [api.post(f"{D}/users/{t.uuid}/like").status_code for t in targets]
    assert codes == [200, 200, 429]
    limited = api.post(f"{D}/users/{targets[2].uuid}/like").json()
    assert limited["status"] == 429
    assert limited["errors"][0]["code"] == "daily_like_limit"
    # Yesterday's likes don't count.
    ProfileLike.objects.update(created_at=timezone.now() - dt.timedelta(days=1, hours=1))
    assert api.post(f"{D}/users/{targets[2].uuid}/like").status_code == 200


def test_matches_only_posts_are_for_matches() -> None:
    author, match, stranger = make_user("author"), make_user("match"), make_user("stranger")
    post = make_post(author, audience="matches")
    for user in (match, stranger):
        assert api_client_for(user).get(f"{D}/posts/{post.uuid}").status_code == 404
    matching.profile_like(user=author, user_uuid=match.uuid)
    made = matching.profile_like(user=match, user_uuid=author.uuid)
    assert made is not None
    assert api_client_for(match).get(f"{D}/posts/{post.uuid}").status_code == 200
    assert api_client_for(stranger).get(f"{D}/posts/{post.uuid}").status_code == 404
    on_profile = api_client_for(match).get(f"{D}/users/{author.uuid}/posts").json()["results"]
    assert [p["id"] for p in on_profile] == [str(post.uuid)]
    assert api_client_for(match).get(f"{D}/posts").json()["results"] == []  # feed: public only
    matching.match_end(user=match, match_uuid=made.uuid)
    assert api_client_for(match).get(f"{D}/posts/{post.uuid}").status_code == 404


@pytest.mark.parametrize("size", [2, 6])
def test_people_lists_have_fixed_query_counts(
    size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    me = make_user("me")
    for i in range(size):
        fan = make_user(f"fan{i}")
        matching.profile_like(user=fan, user_uuid=me.uuid)
        friend = make_user(f"friend{i}")
        matching.profile_like(user=friend, user_uuid=me.uuid)
        matching.profile_like(user=me, user_uuid=friend.uuid)
    api = api_client_for(me)
    with django_assert_num_queries(2):  # the session's user, the page
        assert len(api.get(f"{D}/likes/received").json()["results"]) == size
    with django_assert_num_queries(2):
        assert len(api.get(f"{D}/matches").json()["results"]) == size
    with django_assert_num_queries(2):
        api.get(f"{D}/discover")


def test_export_and_erasure_of_likes_passes_and_matches() -> None:
    me, friend, passed, fan = (make_user(n) for n in ("me", "friend", "passed", "fan"))
    matching.profile_like(user=me, user_uuid=friend.uuid)
    match = matching.profile_like(user=friend, user_uuid=me.uuid)
    assert match is not None
    assert match.conversation is not None
    matching.profile_pass(user=me, user_uuid=passed.uuid)
    matching.profile_pass(user=fan, user_uuid=me.uuid)  # never exported to me
    matching.profile_like(user=fan, user_uuid=me.uuid)

    export = request_create(user=me, kind="access", identity_confirmed=True)
    assert run_export(export) == "done"
    export.refresh_from_db()
    with default_storage.open(export.archive_key, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    likes = json.loads(archive.read("dating_profile_likes.json"))
    assert [row["user"] for row in likes] == [str(friend.uuid)]
    passes = json.loads(archive.read("dating_passes.json"))
    assert [row["user"] for row in passes] == [str(passed.uuid)]
    matches = json.loads(archive.read("dating_matches.json"))
    assert [(m["uuid"], m["user"]) for m in matches] == [(str(match.uuid), str(friend.uuid))]
    everything = " ".join(
        archive.read(n).decode() for n in archive.namelist() if n.endswith(".json")
    )
    assert str(fan.uuid) not in everything

    erasure = request_create(user=me, kind="erasure", identity_confirmed=True)
    PrivacyRequest.objects.filter(pk=erasure.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)
    )
    assert erasures_start_due() == [erasure.pk]
    assert run_erasure(erasure) == "done"
    assert not Match.objects.exists()
    assert not ProfileLike.objects.exists()
    assert not ProfilePass.objects.exists()
    conversation = Conversation.objects.get(pk=match.conversation.pk)
    assert conversation.closed_at is not None  # the friend keeps a readable history


def test_operator_may_reserve_posting_and_liking_to_verified_accounts(
    settings: LazySettings,
) -> None:
    settings.MEETNOW_VERIFIED_ONLY = ["posts", "likes"]
    me, other = make_user("me"), make_user("other")
    api = api_client_for(me)
    liked = api.post(f"{D}/users/{other.uuid}/like")
    assert liked.status_code == 403
    assert liked.json()["errors"][0] == {
        "code": "identity_verification_required",
        "message": liked.json()["errors"][0]["message"],
        "param": "likes",
    }
    from tests.factories.dating import media

    posted = api.post(f"{D}/posts", {"voice": str(media(me).uuid)}, format="json")
    assert posted.json()["errors"][0]["param"] == "posts"
    me.identity_verified = True
    me.save(update_fields=["identity_verified"])
    assert api.post(f"{D}/users/{other.uuid}/like").status_code == 200


def test_a_match_turns_a_message_request_into_a_conversation_and_leaves_discover() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alice_api, bob_api = api_client_for(alice), api_client_for(bob)
    started = alice_api.post("/api/v1/conversations", {"user": str(bob.uuid)}, format="json")
    conv = started.json()["uuid"]
    assert [r["uuid"] for r in bob_api.get("/api/v1/chat/requests").json()["results"]] == [conv]
    bob_api.patch("/api/v1/me", {"dm_from": "matches_only"}, format="json")
    assert alice_api.post(f"{D}/users/{bob.uuid}/like").status_code == 200
    assert str(alice.uuid) in _ids(bob_api.get(f"{D}/discover"))
    assert bob_api.post(f"{D}/users/{alice.uuid}/like").json()["match"]["conversation"] == conv
    # The request is now an accepted conversation for Bob; no cap for Alice.
    assert bob_api.get("/api/v1/chat/requests").json()["results"] == []
    assert [c["uuid"] for c in bob_api.get("/api/v1/conversations").json()["results"]] == [conv]
    for _ in range(4):
        sent = alice_api.post(
            f"/api/v1/conversations/{conv}/messages",
            {"client_id": str(uuid.uuid4()), "text": "hi"},
            format="json",
        )
        assert sent.status_code == 201
    # Matched people are not in each other's discover; matches_only lets a match in.
    assert str(alice.uuid) not in _ids(bob_api.get(f"{D}/discover"))
    assert str(bob.uuid) not in _ids(alice_api.get(f"{D}/discover"))
    again = alice_api.post("/api/v1/conversations", {"user": str(bob.uuid)}, format="json")
    assert again.status_code == 200


def test_liking_an_erased_account_is_not_found() -> None:
    me, gone = make_user("me"), make_user("gone")
    gone_uuid = gone.uuid
    gone.delete()  # what erasure leaves of an account: nothing
    assert api_client_for(me).post(f"{D}/users/{gone_uuid}/like").status_code == 404
    assert not ProfileLike.objects.exists()


def test_who_liked_me_is_newest_first_paginated_and_only_the_unanswered() -> None:
    me = make_user("me")
    fans = [make_user(f"fan{i}") for i in range(4)]
    for fan in fans:
        matching.profile_like(user=fan, user_uuid=me.uuid)
    api = api_client_for(me)
    assert api.post(f"{D}/users/{fans[1].uuid}/pass").status_code == 204  # answered: no
    assert api.post(f"{D}/users/{fans[2].uuid}/like").json()["match"]  # answered: yes
    seen, url = [], f"{D}/likes/received?limit=1"
    while url:
        body = api.get(url).json()
        assert len(body["results"]) <= 1
        seen += [row["user"]["id"] for row in body["results"]]
        url = body["next"]
    assert seen == [str(fans[3].uuid), str(fans[0].uuid)]
    # My own likes show nowhere for me, and nowhere for their recipient but here.
    assert _ids(api_client_for(fans[3]).get(f"{D}/likes/received")) == []


def test_unmatch_is_for_the_two_people_only_and_pass_refusals() -> None:
    alice, bob, eve = make_user("alice"), make_user("bob"), make_user("eve")
    matching.profile_like(user=alice, user_uuid=bob.uuid)
    match = matching.profile_like(user=bob, user_uuid=alice.uuid)
    assert match is not None
    eve_api = api_client_for(eve)
    assert eve_api.delete(f"{D}/matches/{match.uuid}").status_code == 404
    assert eve_api.delete(f"{D}/matches/not-a-uuid").status_code == 404
    assert api_client_for(bob).get(f"{D}/matches").json()["results"][0]["id"] == str(match.uuid)
    # Passing: never oneself, nobody blocked either way.
    own = eve_api.post(f"{D}/users/{eve.uuid}/pass")
    assert own.status_code == 400
    assert own.json()["errors"][0]["code"] == "cannot_like_self"
    Block.objects.create(blocker=alice, blocked=eve)
    assert eve_api.post(f"{D}/users/{alice.uuid}/pass").status_code == 404
    assert not ProfilePass.objects.exists()


def test_a_match_with_someone_blocked_banned_or_deactivated_since_is_not_shown() -> None:
    """P11: blocked-either-way, banned and deactivated people are invisible, in the
    matches list too (the match itself stays until one of them ends it)."""
    me = make_user("me")
    friends = {name: make_user(name) for name in ("kept", "blocker", "blocked", "banned", "gone")}
    for friend in friends.values():
        matching.profile_like(user=me, user_uuid=friend.uuid)
        assert matching.profile_like(user=friend, user_uuid=me.uuid) is not None
    Block.objects.create(blocker=friends["blocker"], blocked=me)
    Block.objects.create(blocker=me, blocked=friends["blocked"])
    user_ban(user=friends["banned"])
    friends["gone"].is_active = False
    friends["gone"].save(update_fields=["is_active"])
    assert _ids(api_client_for(me).get(f"{D}/matches")) == [str(friends["kept"].uuid)]
    for name in ("blocker", "blocked"):
        assert _ids(api_client_for(friends[name]).get(f"{D}/matches")) == []
    assert _ids(api_client_for(friends["kept"]).get(f"{D}/matches")) == [str(me.uuid)]
