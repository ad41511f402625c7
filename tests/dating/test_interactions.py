"""Likes, comments, listens: counts, rights, the author's events and pushes, limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings
from pytest_django import DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient

from accounts.models import Block
from chat.push import LogBackend
from dating import notify, services
from dating.models import PostLike, VoicePost
from tests.factories.chat import make_device, make_user
from tests.factories.dating import make_post
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/dating/posts"


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str, dict[str, str]]]:
    """What the push backend was asked to deliver: (device, kind, data)."""
    sent: list[tuple[int, str, dict[str, str]]] = []

    def send(self: Any, device: Any, note: Any) -> bool:
        sent.append((device.pk, note.kind, dict(note.data)))
        return True

    monkeypatch.setattr(LogBackend, "send", send)
    return sent


def test_like_is_idempotent_and_unlike_too() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    post = make_post(alice)
    bob_api = api_client_for(bob)
    url = f"{POSTS}/{post.uuid}/like"
    first = bob_api.post(url)
    assert first.status_code == 200, first.content
    assert first.json() == {
        "like_count": 1,
        "comment_count": 0,
        "listen_count": None,
        "liked_by_me": True,
    }
    assert bob_api.post(url).json()["like_count"] == 1  # a retry is no second like
    assert api_client_for(carol).post(url).json()["like_count"] == 2
    feed = bob_api.get(POSTS).json()["results"][0]
    assert (feed["like_count"], feed["liked_by_me"]) == (2, True)
    assert api_client_for(carol).get(f"{POSTS}/{post.uuid}").json()["liked_by_me"] is True
    assert bob_api.delete(url).json()["like_count"] == 1
    assert bob_api.delete(url).json()["like_count"] == 1  # unliking twice is harmless
    assert bob_api.get(POSTS).json()["results"][0]["liked_by_me"] is False
    assert PostLike.objects.count() == VoicePost.objects.get(pk=post.pk).like_count == 1


def test_a_blocked_user_can_neither_like_nor_comment() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    Block.objects.create(blocker=alice, blocked=bob)
    api = api_client_for(bob)
    assert api.post(f"{POSTS}/{post.uuid}/like").status_code == 404
    assert api.post(f"{POSTS}/{post.uuid}/comments", {"text": "hey"}).status_code == 404
    assert api.post(f"{POSTS}/{post.uuid}/listened").status_code == 404


def test_likes_reach_the_authors_stream_and_one_push_per_burst(
    pushes: list[tuple[int, str, dict[str, str]]],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    alice = make_user("alice")
    phone = make_device(alice)
    make_device(alice, push_enabled=False)
    post = make_post(alice)
    alice_api = api_client_for(alice)
    cursor = alice_api.get("/api/v1/sync").json()["cursor"]
    fans = [make_user(f"fan{i}") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for fan in fans:
            api_client_for(fan).post(f"{POSTS}/{post.uuid}/like")
    events = alice_api.get("/api/v1/sync", {"since": cursor}).json()["events"]
    assert [(e["type"], e["post"], e["like_count"]) for e in events] == [
        ("dating.post_liked", str(post.uuid), n) for n in (1, 2, 3)
    ]
    # Three likes in a burst: one push, ids only, to the device with push on.
    assert pushes == [(phone.pk, "dating_like", {"post": str(post.uuid)})]
    # The author's own like tells nobody.
    with django_capture_on_commit_callbacks(execute=True):
        alice_api.post(f"{POSTS}/{post.uuid}/like")
    assert alice_api.get("/api/v1/sync", {"since": cursor}).json()["events"][-1]["like_count"] == 3


def test_push_respects_the_account_switch(pushes: list[tuple[int, str, dict[str, str]]]) -> None:
    alice = make_user("alice")
    make_device(alice)
    post = make_post(alice)
    alice.push_enabled = False
    alice.save(update_fields=["push_enabled"])
    assert notify.post_activity_push_send(post_id=post.pk, kind="like", burst=1) == 0
    assert pushes == []


def test_push_is_sent_once_per_device_and_burst(
    pushes: list[tuple[int, str, dict[str, str]]],
) -> None:
    alice = make_user("alice")
    make_device(alice)
    post = make_post(alice)
    assert notify.post_activity_push_send(post_id=post.pk, kind="comment", burst=7) == 1
    assert notify.post_activity_push_send(post_id=post.pk, kind="comment", burst=7) == 0
    assert notify.post_activity_push_send(post_id=post.pk, kind="comment", burst=8) == 1


def test_comments_their_limits_and_who_may_delete_them(
    pushes: list[tuple[int, str, dict[str, str]]],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    make_device(alice)
    post = make_post(alice)
    bob_api, carol_api, alice_api = (api_client_for(u) for u in (bob, carol, alice))
    url = f"{POSTS}/{post.uuid}/comments"
    too_long = bob_api.post(url, {"text": "x" * 501}, format="json")
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["param"] == "text"
    assert bob_api.post(url, {"text": "   "}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        first = bob_api.post(url, {"text": "lovely voice"}, format="json").json()
        second = carol_api.post(url, {"text": "agreed"}, format="json").json()
    assert pushes == [(pushes[0][0], "dating_comment", {"post": str(post.uuid)})]
    assert first["author"]["id"] == str(bob.uuid)
    assert first["can_delete"] is True
    listed = alice_api.get(url).json()["results"]
    assert [c["text"] for c in listed] == ["agreed", "lovely voice"]
    assert all(c["can_delete"] for c in listed)
    assert [c["can_delete"] for c in bob_api.get(url).json()["results"]] == [False, True]
    assert alice_api.get(f"{POSTS}/{post.uuid}").json()["comment_count"] == 2

    # Carol may not delete Bob's comment; Bob may; the post's author may delete any.
    assert carol_api.delete(f"{url}/{first['id']}").status_code == 403
    assert bob_api.delete(f"{url}/{first['id']}").status_code == 204
    assert bob_api.delete(f"{url}/{first['id']}").status_code == 404
    assert alice_api.delete(f"{url}/{second['id']}").status_code == 204
    assert alice_api.get(f"{POSTS}/{post.uuid}").json()["comment_count"] == 0
    events = alice_api.get("/api/v1/sync").json()
    assert events["cursor"] >= 2


def test_comments_of_blocked_people_are_not_shown() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    post = make_post(alice)
    services.comment_create(user=bob, post_uuid=post.uuid, text="from bob")
    services.comment_create(user=carol, post_uuid=post.uuid, text="from carol")
    Block.objects.create(blocker=carol, blocked=bob)
    listed = api_client_for(carol).get(f"{POSTS}/{post.uuid}/comments").json()["results"]
    assert [c["text"] for c in listed] == ["from carol"]


def test_listened_counts_once_per_listener_and_only_the_author_sees_it() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    post = make_post(alice)
    for user in (bob, bob, carol, alice):
        response = api_client_for(user).post(f"{POSTS}/{post.uuid}/listened")
        assert response.status_code == 200
    assert response.json()["listen_count"] == 2  # the author's own play doesn't count
    assert api_client_for(bob).post(f"{POSTS}/{post.uuid}/listened").json()["listen_count"] is None
    mine = api_client_for(alice).get(f"/api/v1/dating/users/{alice.uuid}/posts").json()
    assert mine["results"][0]["listen_count"] == 2


def _limit(settings: Any, scope: str, rate: str) -> Any:
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates[scope] = rate
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    return original


@pytest.mark.parametrize(
    ("scope", "action"),
    [
        ("dating_like", lambda api, post: api.post(f"{POSTS}/{post.uuid}/like")),
        (
            "dating_comment",
            lambda api, post: api.post(f"{POSTS}/{post.uuid}/comments", {"text": "hi"}),
        ),
        (
            "dating_post",
            lambda api, post: api.post(POSTS, {"voice": str(make_post_voice(post))}, format="json"),
        ),
    ],
)
def test_posting_liking_and_commenting_are_rate_limited(
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
    scope: str,
    action: Callable[[APIClient, VoicePost], Any],
) -> None:
    monkeypatch.setattr("meetnow.lib.throttling.clock", lambda: 1_800_000_000.0)  # one window
    original = _limit(settings, scope, "2/min")
    try:
        alice, bob = make_user("alice"), make_user("bob")
        post = make_post(alice)
        api = api_client_for(bob)
        codes = [action(api, post) for _ in range(3)]
        assert [r.status_code for r in codes][2] == 429
        assert codes[2].json()["errors"][0]["code"] == "rate_limited"
        assert codes[2].json()["status"] == 429
        assert api.get(POSTS).status_code == 200  # reading is not limited by it
    finally:
        from rest_framework.throttling import SimpleRateThrottle

        SimpleRateThrottle.THROTTLE_RATES = original


def make_post_voice(post: VoicePost) -> Any:
    """A fresh clip of the user who is posting (bob, the second user made)."""
    from accounts.models import User
    from tests.factories.dating import media

    return media(User.objects.get(nickname="bob")).uuid
