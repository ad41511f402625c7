"""The accounts REST API: profile, public profile, discover, blocks (P4, P11)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from accounts.models import Block, User
from tests.factories.accounts import BlockFactory, DeviceFactory, UserFactory
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def _codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def _years_ago(years: int, days: int = 0) -> dt.date:
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:
        day = today.replace(year=today.year - years, day=28)
    return day - dt.timedelta(days=days)


def test_me_requires_a_token() -> None:
    response = APIClient().get("/api/v1/me")
    assert response.status_code == 401
    assert _codes(response) == ["not_authenticated"]
    response = APIClient(HTTP_X_SESSION_TOKEN="bogus").get("/api/v1/me")
    assert response.status_code == 401


def test_profile_fields_are_all_optional() -> None:
    user = UserFactory.create(nickname="", gender="", date_of_birth=None)
    client = api_client_for(user)
    body = client.get("/api/v1/me").json()
    assert body["nickname"] == ""
    assert body["gender"] == ""
    assert body["age"] is None

    response = client.patch(
        "/api/v1/me", {"nickname": "Lin", "gender": "female", "bio": "hi", "push_enabled": False}
    )
    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert (user.nickname, user.gender, user.bio, user.push_enabled) == (
        "Lin",
        "female",
        "hi",
        False,
    )
    # Clearing works too, and an empty PATCH changes nothing.
    assert client.patch("/api/v1/me", {"gender": ""}).json()["gender"] == ""
    assert client.patch("/api/v1/me", {}).status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"gender": "robot"}, "invalid_choice", "gender"),
        ({"nickname": "x" * 41}, "max_length", "nickname"),
        ({"phone": "+8613800138000"}, "unknown_field", "phone"),
        ({"date_of_birth": "2000-01-01"}, "unknown_field", "date_of_birth"),
        ({"push_enabled": "maybe"}, "invalid", "push_enabled"),
    ],
)
def test_me_rejects_bad_input(body: dict[str, Any], code: str, param: str) -> None:
    response = api_client_for(UserFactory.create()).patch("/api/v1/me", body)
    assert response.status_code == 400
    assert {"code": code, "param": param} in [
        {"code": e["code"], "param": e.get("param")} for e in response.json()["errors"]
    ]


def test_me_rejects_non_object_json() -> None:
    client = api_client_for(UserFactory.create())
    for raw in ['["a"]', '"text"', "{broken"]:
        response = client.generic("PATCH", "/api/v1/me", raw, content_type="application/json")
        assert response.status_code == 400, raw


def test_public_profile_shows_only_public_fields() -> None:
    viewer = UserFactory.create()
    other = UserFactory.create(
        nickname="Mei", gender="female", date_of_birth=_years_ago(27), bio="b"
    )
    DeviceFactory.create(user=other, ip_address="203.0.113.9")
    response = api_client_for(viewer).get(f"/api/v1/users/{other.uuid}")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(other.uuid),
        "nickname": "Mei",
        "gender": "female",
        "age": 27,
        "verified": False,
        "avatar": None,
        "voice_intro": None,
    }
    text = json.dumps(body)
    for secret in [str(other.phone), str(other.phone)[3:], "203.0.113.9"]:
        assert secret not in text
    assert str(other.date_of_birth) not in text


def test_public_profile_not_found_for_blocked_banned_unknown() -> None:
    viewer = UserFactory.create()
    blocked_me = UserFactory.create()
    BlockFactory.create(blocker=blocked_me, blocked=viewer)
    banned = UserFactory.create(banned_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    gone = UserFactory.create(is_active=False)
    client = api_client_for(viewer)
    for user in [blocked_me, banned, gone]:
        assert client.get(f"/api/v1/users/{user.uuid}").status_code == 404
    assert client.get("/api/v1/users/00000000-0000-0000-0000-000000000000").status_code == 404
    response = client.get("/api/v1/users/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_discover_excludes_self_blocked_banned_deactivated() -> None:
    viewer = UserFactory.create()
    visible = UserFactory.create(nickname="visible")
    i_blocked = UserFactory.create()
    blocked_me = UserFactory.create()
    BlockFactory.create(blocker=viewer, blocked=i_blocked)
    BlockFactory.create(blocker=blocked_me, blocked=viewer)
    UserFactory.create(banned_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    UserFactory.create(is_active=False)
    UserFactory.create(is_staff=True, username="mod")
    UserFactory.create(phone_verified=False)  # sign-up abandoned before the code
    social_only = UserFactory.create(phone=None, phone_verified=False, nickname="social")
    response = api_client_for(viewer).get("/api/v1/discover")
    assert response.status_code == 200
    ids = [u["id"] for u in response.json()["results"]]
    assert ids == [str(social_only.uuid), str(visible.uuid)]


def test_discover_filters_by_gender_and_age() -> None:
    viewer = UserFactory.create()
    young = UserFactory.create(gender="female", date_of_birth=_years_ago(20))
    exactly_30 = UserFactory.create(gender="female", date_of_birth=_years_ago(30))
    almost_31 = UserFactory.create(gender="female", date_of_birth=_years_ago(31, days=-1))
    UserFactory.create(gender="male", date_of_birth=_years_ago(25))
    client = api_client_for(viewer)
    ids = {u["id"] for u in client.get("/api/v1/discover?gender=female").json()["results"]}
    assert ids == {str(young.uuid), str(exactly_30.uuid), str(almost_31.uuid)}
    ids = {
        u["id"]
        for u in client.get("/api/v1/discover?gender=female&age_min=30&age_max=30").json()[
            "results"
        ]
    }
    assert ids == {str(exactly_30.uuid), str(almost_31.uuid)}
    for query in ["gender=robot", "age_min=abc", "age_min=40&age_max=30", "age_max=-1"]:
        response = client.get(f"/api/v1/discover?{query}")
        assert response.status_code == 400, query
    assert client.get("/api/v1/discover?cursor=garbage").status_code == 400


def test_discover_pages_with_a_cursor_and_a_fixed_query_count(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    viewer = UserFactory.create()
    UserFactory.create_batch(7)
    client = api_client_for(viewer)
    seen = []
    url = "/api/v1/discover?limit=3"
    while url:
        body = client.get(url).json()
        seen += [u["id"] for u in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7

    counts = []
    for limit in (2, 7):
        client = api_client_for(viewer)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/discover?limit={limit}").status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    client = api_client_for(viewer)
    with django_assert_num_queries(counts[0]):
        client.get("/api/v1/discover?limit=5&gender=female&age_min=18&age_max=60")


def test_blocks_api() -> None:
    me = UserFactory.create()
    other = UserFactory.create(nickname="Chen")
    client = api_client_for(me)
    response = client.post(f"/api/v1/blocks/{other.uuid}")
    assert response.status_code == 201
    assert response.json()["user"]["id"] == str(other.uuid)
    assert client.post(f"/api/v1/blocks/{other.uuid}").status_code == 201  # idempotent
    assert Block.objects.filter(blocker=me, blocked=other).count() == 1
    body = client.get("/api/v1/blocks").json()
    assert [b["user"]["nickname"] for b in body["results"]] == ["Chen"]
    # The blocked user no longer shows in discover, either way round.
    assert client.get("/api/v1/discover").json()["results"] == []
    assert api_client_for(other).get(f"/api/v1/users/{me.uuid}").status_code == 404

    response = client.post(f"/api/v1/blocks/{me.uuid}")
    assert response.status_code == 400
    assert _codes(response) == ["cannot_block_self"]
    assert client.post("/api/v1/blocks/00000000-0000-0000-0000-000000000000").status_code == 404

    assert client.delete(f"/api/v1/blocks/{other.uuid}").status_code == 204
    assert client.delete(f"/api/v1/blocks/{other.uuid}").status_code == 204
    assert client.get("/api/v1/blocks").json()["results"] == []


def test_blocks_list_has_a_fixed_query_count() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    me = UserFactory.create()
    counts = []
    for extra in (1, 6):
        for _ in range(extra):
            BlockFactory.create(blocker=me)
        client = api_client_for(me)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/blocks").status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_policies_are_public() -> None:
    body = APIClient().get("/api/v1/policies").json()
    kinds = sorted(d["kind"] for d in body)
    assert kinds == ["identity_notice", "privacy_policy", "user_agreement"]


def test_user_model_never_leaves_phone_in_public_lists() -> None:
    viewer = UserFactory.create()
    UserFactory.create_batch(3)
    text = api_client_for(viewer).get("/api/v1/discover").content.decode()
    for phone in User.objects.exclude(pk=viewer.pk).values_list("phone", flat=True):
        assert str(phone)[1:] not in text
