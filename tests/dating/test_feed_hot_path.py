"""The feed's fast path (rows, one compiled query, URLs signed per page) shows exactly
what the model path shows, pages the same way, and keeps its query count."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from accounts.models import Block, User
from dating import payloads, selectors
from dating.models import PostLike, PostPhoto
from media import signing
from media.models import Kind, MediaFile, Status
from media.services import media_file_signed_urls, media_signed_urls
from meetnow.lib.querytemplate import QueryTemplate
from meetnow.lib.timestamps import iso
from tests.factories.chat import make_user
from tests.factories.dating import make_post, media
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

FEED = "/api/v1/dating/posts"
DOWNLOAD = "/api/v1/media/download/"
AUTH = 1
# The page; its photos come in the same query on PostgreSQL, in a second one elsewhere.
FEED_PAGE = 1 if connection.vendor == "postgresql" else 2


def _grants(body: Any) -> Any:
    """``body`` with every signed URL replaced by what it grants: the file, the copy,
    and its lifetime in minutes (the tokens differ only by their second of expiry)."""
    if isinstance(body, dict):
        return {key: _grants(value) for key, value in body.items()}
    if isinstance(body, list):
        return [_grants(value) for value in body]
    if isinstance(body, str) and body.startswith(DOWNLOAD):
        grant = signing.verify(body.removeprefix(DOWNLOAD))
        return (str(grant.media_uuid), grant.variant, round((grant.expires_at - time.time()) / 60))
    return body


def _profiled(nickname: str) -> User:
    """A user with a birth date, the identity badge, a photo and a voice intro."""
    user = make_user(nickname)
    user.date_of_birth = dt.date(1996, 2, 29)
    user.identity_verified = True
    user.avatar = media(user, kind=Kind.IMAGE)
    user.voice_intro = media(user)
    user.save(update_fields=["date_of_birth", "identity_verified", "avatar", "voice_intro"])
    return user


def _model_path(viewer: User) -> list[dict[str, Any]]:
    posts = selectors.feed(viewer=viewer).order_by("-id")
    return [payloads.post_payload(post, viewer=viewer) for post in posts]


def test_feed_items_are_the_post_bodies_of_the_model_path() -> None:
    me = make_user("me")
    rich, plain = _profiled("rich"), make_user("plain")
    with_photos = make_post(rich, photos=3, caption="it's 100% me")
    make_post(plain)
    make_post(rich, photos=1)
    # A photo a moderator removed and one whose file is gone are left out, not shown.
    first, second, _third = PostPhoto.objects.filter(post=with_photos).order_by("position")
    MediaFile.objects.filter(pk=first.media_id or 0).update(status=Status.REMOVED_BY_MODERATOR)
    PostPhoto.objects.filter(pk=second.pk).update(media=None)
    # A profile photo not ready is no avatar.
    MediaFile.objects.filter(pk=rich.voice_intro_id or 0).update(status=Status.PENDING)
    PostLike.objects.create(post=with_photos, user=me)

    response = api_client_for(me).get(FEED)
    assert response.status_code == 200, response.content
    fast = response.json()["results"]
    assert len(fast) == 3
    assert _grants(fast) == _grants(_model_path(me))
    shown = next(item for item in fast if item["id"] == str(with_photos.uuid))
    assert shown["liked_by_me"] is True
    assert len(shown["photos"]) == 1
    assert shown["author"]["age"] is not None
    assert shown["author"]["verified"] is True
    assert shown["author"]["avatar"]["urls"]["original"].startswith(DOWNLOAD)
    assert shown["author"]["voice_intro"] is None
    assert shown["caption"] == "it's 100% me"
    # Times as everywhere in the API (chat, accounts): UTC written "Z", not "+00:00".
    assert shown["created_at"].endswith("Z")
    assert shown["created_at"] == iso(with_photos.created_at)


def test_feed_pages_forward_and_back_like_the_model_path() -> None:
    me, author, other = make_user("me"), make_user("author"), make_user("other")
    posts = [make_post(author if i % 3 else other, caption=f"p{i}") for i in range(11)]
    Block.objects.create(blocker=other, blocked=me)  # a third of them hidden from me
    expected = [p["caption"] for p in _model_path(me)]
    assert len(expected) == 7
    assert len(posts) == 11
    api = api_client_for(me)
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    page = api.get(f"{FEED}?limit=3").json()
    while True:
        pages.append(page)
        seen += [p["caption"] for p in page["results"]]
        if page["next"] is None:
            break
        page = api.get(page["next"]).json()
    assert seen == expected
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    back = api.get(pages[-1]["previous"]).json()
    assert [p["caption"] for p in back["results"]] == expected[3:6]
    assert api.get(back["previous"]).json()["previous"] is None


@pytest.mark.parametrize("cursor", ["garbage", "cD1hYmM=", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk="])
def test_a_bad_cursor_is_a_400_in_the_error_shape(cursor: str) -> None:
    response = api_client_for(make_user("me")).get(f"{FEED}?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["param"] == "cursor"


@pytest.mark.parametrize("size", [2, 6])
def test_next_pages_keep_the_query_count(
    size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    me = make_user("me")
    for i in range(size):
        author = make_user(f"a{i}")
        for _ in range(3):
            make_post(author, photos=1)
    api = api_client_for(me)
    first = api.get(f"{FEED}?limit={size}").json()
    with django_assert_num_queries(AUTH + FEED_PAGE):
        second = api.get(first["next"])
    assert len(second.json()["results"]) == size


def test_the_feed_sql_binds_only_the_viewer_and_the_cursor() -> None:
    """Statuses, audience and clip bounds are literals in the compiled SQL, so a prepared
    statement's generic plan on PostgreSQL still knows them; what is bound are inputs."""
    me = make_user("me")
    make_post(make_user("author"))
    bounds = (1, 60)
    template = selectors._feed_template("default", True, True, 0, 21, bounds)
    names = {getattr(param, "name", None) for param in template.params}
    assert names == {"viewer", "position"}
    assert "'ready'" in template.sql
    assert "'public'" in template.sql
    rows = selectors.feed_rows(viewer=me, position=2**62, limit=5)
    assert [row["caption"] for row in rows] == ["hello"]


def test_query_template_inlines_quotes_and_percent_signs_safely() -> None:
    odd = make_user("o'brien 100%")
    make_user("someone")
    slot = -7_000_000_123
    queryset = User.objects.filter(nickname="o'brien 100%", id__gt=slot).values("id", "uuid")
    template = QueryTemplate.build(queryset, {"floor": slot})
    assert template.rows(floor=0) == [{"id": odd.pk, "uuid": odd.uuid}]
    assert template.rows(floor=odd.pk) == []
    with pytest.raises(ValueError, match="placeholders"):
        QueryTemplate.build(queryset, {"floor": slot, "missing": -1})


def test_batch_signing_gives_the_urls_of_one_by_one_signing() -> None:
    owner = make_user("owner")
    files = [media(owner), media(owner, kind=Kind.IMAGE)]
    batch = media_signed_urls(files=[(f.uuid, f.variants) for f in files], ttl=600)
    one_by_one = [media_file_signed_urls(media_file=f, ttl=600) for f in files]
    assert _grants(batch) == _grants(one_by_one)
    assert list(batch[1]) == list(files[1].variants)


def test_the_feed_runs_its_compiled_query_once_per_page() -> None:
    me = make_user("me")
    for i in range(4):
        make_post(make_user(f"a{i}"), photos=1)
    api = api_client_for(me)
    api.get(FEED)
    with CaptureQueriesContext(connection) as ctx:
        assert len(api.get(FEED).json()["results"]) == 4
    feeds = [q for q in ctx.captured_queries if '"dating_voicepost"' in q["sql"]]
    assert len(feeds) == 1


def test_like_sees_exactly_the_posts_the_detail_shows() -> None:
    """Likes check visibility with SQL compiled once (``post_access_light``): a post
    nobody else may open is a 404 for a like too, and mine can be liked by me."""
    me = make_user("me")
    blocked, blocker, banned, shy, pending = (make_user(n) for n in "xyzsp")
    posts = [
        make_post(blocked),
        make_post(blocker),
        make_post(banned),
        make_post(shy, audience="matches"),
        make_post(pending, voice=media(pending, status=Status.PENDING)),
    ]
    visible, own = make_post(make_user("friend")), make_post(me)
    Block.objects.create(blocker=me, blocked=blocked)
    Block.objects.create(blocker=blocker, blocked=me)
    User.objects.filter(pk=banned.pk).update(banned_at=dt.datetime.now(tz=dt.UTC))
    api = api_client_for(me)
    for post in posts:
        assert api.get(f"{FEED}/{post.uuid}").status_code == 404
        assert api.post(f"{FEED}/{post.uuid}/like").status_code == 404
        assert api.delete(f"{FEED}/{post.uuid}/like").status_code == 404
    assert PostLike.objects.count() == 0
    for post in (visible, own):
        assert api.post(f"{FEED}/{post.uuid}/like").json()["like_count"] == 1
        assert api.delete(f"{FEED}/{post.uuid}/like").json()["like_count"] == 0
    assert api.post(f"{FEED}/not-a-uuid/like").status_code == 404


def test_a_like_is_one_statement_with_the_authors_event() -> None:
    """On PostgreSQL a like is the user's row and one statement: the visibility check,
    the like, the count and the author's event (its counter made if missing)."""
    from chat.models import Event, EventStream

    author, fan = make_user("author"), make_user("fan")
    post = make_post(author)
    EventStream.objects.filter(user=author).delete()
    api = api_client_for(fan)
    api.get(FEED)  # the session is cached, as for any later request
    with CaptureQueriesContext(connection) as ctx:
        answer = api.post(f"{FEED}/{post.uuid}/like")
    assert answer.json()["like_count"] == 1
    if connection.vendor == "postgresql":
        assert len(ctx.captured_queries) == 2
    event = Event.objects.get(user=author)
    assert (event.seq, event.type) == (1, "dating.post_liked")
    assert event.payload == {"post": str(post.uuid), "like_count": 1}
    assert EventStream.objects.get(user=author).seq == 1
    with CaptureQueriesContext(connection) as ctx:
        assert api.post(f"{FEED}/{post.uuid}/like").json()["like_count"] == 1  # a retry
    assert Event.objects.filter(user=author).count() == 1
    assert api_client_for(author).post(f"{FEED}/{post.uuid}/like").json()["like_count"] == 2
    assert Event.objects.filter(user=author).count() == 1  # my own like tells nobody
