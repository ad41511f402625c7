"""Publishing voice posts and who sees them (issue 14), through the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from accounts.models import Block, User
from accounts.services import user_ban
from dating.models import VoicePost
from media.models import Kind, Status
from media.services import media_file_process, media_file_upload
from tests.factories.chat import make_user
from tests.factories.dating import make_post, media
from tests.factories.media import raw_amr
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

FEED = "/api/v1/dating/posts"


def _feed_ids(user: User) -> list[str]:
    response = api_client_for(user).get(FEED)
    assert response.status_code == 200, response.content
    return [p["id"] for p in response.json()["results"]]


def test_publish_from_a_real_upload_shows_once_processed() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    upload = media_file_upload(
        owner=alice, purpose="dating_voice", upload=ContentFile(raw_amr(3.0), name="x")
    )
    api = api_client_for(alice)
    response = api.post(FEED, {"voice": str(upload.uuid), "caption": "  hi there "}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "pending"
    assert body["caption"] == "hi there"
    assert body["voice"] is None
    assert body["author"]["id"] == str(alice.uuid)
    assert "phone" not in body["author"]
    assert "date_of_birth" not in body["author"]
    # Others don't see it while the worker hasn't processed the clip.
    assert _feed_ids(bob) == []
    assert api_client_for(bob).get(f"{FEED}/{body['id']}").status_code == 404

    media_file_process(media_file_id=upload.pk)
    assert _feed_ids(bob) == [body["id"]]
    seen = api_client_for(bob).get(f"{FEED}/{body['id']}").json()
    assert seen["state"] == "published"
    assert seen["voice"]["duration_ms"] == 3000
    played: Any = api_client_for(bob).get(seen["voice"]["urls"]["original"])
    assert played.status_code == 200
    assert b"".join(played.streaming_content).startswith(b"#!AMR")
    assert seen["listen_count"] is None  # only the author sees it
    mine = api.get(f"/api/v1/dating/users/{alice.uuid}/posts").json()["results"]
    assert mine[0]["state"] == "published"
    assert mine[0]["listen_count"] == 0


def test_publish_refuses_bad_input_with_clear_errors() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    api = api_client_for(alice)

    def error(body: dict[str, Any]) -> dict[str, Any]:
        response = api.post(FEED, body, format="json")
        assert 400 <= response.status_code < 500, response.content
        assert response.json()["status"] == response.status_code
        error: dict[str, Any] = response.json()["errors"][0]
        return error

    voice = media(alice)
    assert error({"voice": str(voice.uuid), "caption": "x" * 301})["param"] == "caption"
    photos = [str(media(alice, kind=Kind.IMAGE).uuid) for _ in range(5)]
    assert error({"voice": str(voice.uuid), "photos": photos})["param"] == "photos"
    assert error({"voice": str(media(bob).uuid)})["code"] == "media_not_found"
    assert error({"voice": photos[0]})["code"] == "media_not_found"  # a photo is no clip
    assert error({"voice": str(media(alice, duration_ms=61_000).uuid)})["code"] == "voice_too_long"
    assert error({"voice": str(media(alice, duration_ms=500).uuid)})["code"] == "voice_too_short"
    assert error({"voice": str(voice.uuid), "audience": "friends"})["param"] == "audience"
    assert error({"voice": str(voice.uuid), "mood": "happy"})["code"] == "unknown_field"
    assert api.post(FEED, {"voice": str(voice.uuid)}, format="json").status_code == 201
    assert error({"voice": str(voice.uuid)})["code"] == "media_in_use"


def test_a_clip_judged_too_long_by_the_worker_stays_rejected_for_its_author() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    pending = media(alice, status=Status.PENDING, duration_ms=None)
    post = make_post(alice, voice=pending)
    pending.status, pending.duration_ms = Status.READY, 90_000
    pending.variants = {"original": {"key": "k", "content_type": "audio/mp4", "size": 1}}
    pending.save()
    assert _feed_ids(bob) == []
    mine = api_client_for(alice).get(f"{FEED}/{post.uuid}").json()
    assert mine["state"] == "rejected"


def test_a_pending_photo_keeps_the_post_hidden() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    photo = media(alice, kind=Kind.IMAGE, status=Status.PENDING)
    post = make_post(alice, photos=0)
    ready = make_post(alice, photos=2)
    from dating.models import PostPhoto

    PostPhoto.objects.create(post=post, media=photo, position=0)
    assert _feed_ids(bob) == [str(ready.uuid)]
    shown = api_client_for(bob).get(f"{FEED}/{ready.uuid}").json()
    assert len(shown["photos"]) == 2
    assert shown["photos"][0]["width"] == 800


def test_feed_hides_blocked_banned_hidden_and_matches_only() -> None:
    me = make_user("me")
    friend, blocked, blocker, banned, hidden, shy = (make_user(n) for n in "fxyzhs")
    posts = {u.nickname: make_post(u) for u in (friend, blocked, blocker, banned, hidden)}
    make_post(shy, audience="matches")
    mine = make_post(me)
    Block.objects.create(blocker=me, blocked=blocked)
    Block.objects.create(blocker=blocker, blocked=me)
    user_ban(user=banned)
    hidden.hidden_from_discover = True
    hidden.save(update_fields=["hidden_from_discover"])

    assert _feed_ids(me) == [str(posts["f"].uuid)]
    api = api_client_for(me)
    for name in "xyz":
        assert api.get(f"{FEED}/{posts[name].uuid}").status_code == 404
    # Hidden from discover: not in the feed, but still on the person's profile.
    assert api.get(f"{FEED}/{posts['h'].uuid}").status_code == 200
    profile = api.get(f"/api/v1/dating/users/{hidden.uuid}/posts").json()["results"]
    assert [p["id"] for p in profile] == [str(posts["h"].uuid)]
    # Matches-only means nobody else until matches exist; the author sees it.
    assert api.get(f"/api/v1/dating/users/{shy.uuid}/posts").json()["results"] == []
    shy_own = api_client_for(shy).get(f"/api/v1/dating/users/{shy.uuid}/posts").json()
    assert shy_own["results"][0]["audience"] == "matches"
    # A blocked person's profile is not found at all.
    assert api.get(f"/api/v1/dating/users/{blocker.uuid}/posts").status_code == 404
    assert str(mine.uuid) not in _feed_ids(me)


def test_feed_is_newest_first_and_cursor_paginated() -> None:
    me, author = make_user("me"), make_user("author")
    posts = [make_post(author, caption=f"p{i}") for i in range(5)]
    api = api_client_for(me)
    first = api.get(f"{FEED}?limit=2").json()
    assert [p["caption"] for p in first["results"]] == ["p4", "p3"]
    second = api.get(first["next"]).json()
    assert [p["caption"] for p in second["results"]] == ["p2", "p1"]
    assert len(posts) == 5
    assert api.get(f"{FEED}?cursor=garbage").status_code in (400, 404)


def test_author_deletes_a_post_and_its_files() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice, photos=1)
    voice_id = post.voice_id
    assert api_client_for(bob).delete(f"{FEED}/{post.uuid}").status_code == 403
    assert api_client_for(alice).delete(f"{FEED}/{post.uuid}").status_code == 204
    assert _feed_ids(bob) == []
    assert api_client_for(alice).get(f"{FEED}/{post.uuid}").status_code == 404
    from media.models import MediaFile

    assert not MediaFile.objects.filter(owner=alice).exists()
    post.refresh_from_db()
    assert post.deleted_at is not None
    assert voice_id is not None
    assert api_client_for(alice).delete(f"{FEED}/{post.uuid}").status_code == 404


def test_stranger_and_malformed_ids_get_404() -> None:
    me = make_user("me")
    api = api_client_for(me)
    assert api.get(f"{FEED}/not-a-uuid").status_code == 404
    assert api.get(f"{FEED}/00000000-0000-0000-0000-000000000000").json()["status"] == 404
    assert api.get("/api/v1/dating/users/nope/posts").status_code in (400, 404)
    assert api_client_for(me).post(FEED, {}, format="json").json()["errors"][0]["param"] == "voice"


def _world(size: int) -> User:
    me = make_user("me")
    for i in range(size):
        author = make_user(f"a{i}")
        for j in range(2):
            post = make_post(author, photos=j + 1)
            if j:
                VoicePost.objects.filter(pk=post.pk).update(created_at=timezone.now())
    return me


AUTH = 1


@pytest.mark.parametrize("size", [2, 6])
def test_feed_query_count_is_fixed(
    size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    me = _world(size)
    api = api_client_for(me)
    # the page (posts with author, profile files, voice, liked-by-me, and on PostgreSQL
    # the photos), the photos elsewhere.
    with django_assert_num_queries(AUTH + (1 if connection.vendor == "postgresql" else 2)):
        response = api.get(FEED)
    assert len(response.json()["results"]) == 2 * size


@pytest.mark.parametrize("size", [2, 6])
def test_user_posts_and_detail_query_counts_are_fixed(
    size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    me = make_user("me")
    author = make_user("author")
    posts = [make_post(author, photos=2) for _ in range(size)]
    from dating import services

    for i in range(size):
        services.comment_create(user=make_user(f"c{i}"), post_uuid=posts[0].uuid, text=f"hi {i}")
    api = api_client_for(me)
    # user lookup, block check, the page, the photos.
    with django_assert_num_queries(AUTH + 4):
        response = api.get(f"/api/v1/dating/users/{author.uuid}/posts")
    assert len(response.json()["results"]) == size
    # the post, its photos, the comments page.
    with django_assert_num_queries(AUTH + 3):
        response = api.get(f"{FEED}/{posts[0].uuid}")
    assert len(response.json()["comments"]["results"]) == size


def test_hiding_from_discover_is_one_setting_for_discover_and_the_feed() -> None:
    me, shy = make_user("me"), make_user("shy")
    post = make_post(shy)
    api = api_client_for(me)
    assert str(shy.uuid) in [u["id"] for u in api.get("/api/v1/discover").json()["results"]]
    response = api_client_for(shy).patch(
        "/api/v1/me", {"hidden_from_discover": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["hidden_from_discover"] is True
    assert str(shy.uuid) not in [u["id"] for u in api.get("/api/v1/discover").json()["results"]]
    assert _feed_ids(me) == []
    assert api.get(f"/api/v1/users/{shy.uuid}").status_code == 200
    assert api.get(f"{FEED}/{post.uuid}").status_code == 200
