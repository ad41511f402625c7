"""One output shape (issue 22): every answer is built by a payload function, so a time
is written the same way everywhere — ISO 8601 in UTC with ``Z`` — whatever zone the
reader's texts use. (Before, accounts' serializer-built answers followed the reader's
zone, ``+08:00`` for a Shanghai user, while chat's answers said ``Z``.)"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest

from accounts.models import SecurityEventKind, User
from accounts.services import security_event_record
from tests.factories.chat import make_device, make_direct, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
TIME_KEYS = {"created_at", "last_seen_at", "date_joined", "published_at", "verified_at"}


def _times(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in TIME_KEYS and v is not None]
        return found + [t for v in node.values() for t in _times(v)]
    if isinstance(node, list):
        return [t for v in node for t in _times(v)]
    return []


@pytest.fixture
def shanghai() -> User:
    user = make_user("上海")
    user.language, user.time_zone = "zh-hans", "Asia/Shanghai"
    user.save(update_fields=["language", "time_zone"])
    return user


def test_times_are_utc_z_in_every_answer_for_a_reader_in_shanghai(shanghai: User) -> None:
    other = make_user("other")
    make_device(shanghai)
    security_event_record(user=shanghai, kind=SecurityEventKind.LOGIN_SUCCEEDED)
    conversation = make_direct(shanghai, other)
    api = api_client_for(shanghai)
    sent = api_client_for(other).post(
        f"/api/v1/conversations/{conversation.uuid}/messages",
        {"client_id": str(uuid.uuid4()), "text": "你好"},
        format="json",
    )
    assert sent.status_code == 201, sent.content
    assert api.post(f"/api/v1/blocks/{other.uuid}").status_code == 201
    bodies = {
        path: api.get(path).json()
        for path in (
            "/api/v1/me",
            "/api/v1/devices",
            "/api/v1/sessions",
            "/api/v1/security-events",
            "/api/v1/blocks",
            "/api/v1/policies",
            "/api/v1/identity",
            f"/api/v1/conversations/{conversation.uuid}/messages",
        )
    }
    assert bodies["/api/v1/me"]["time_zone"] == "Asia/Shanghai"
    for path, body in bodies.items():
        times = _times(body)
        if path not in {"/api/v1/identity", "/api/v1/sessions"}:  # none made here
            assert times, path
        for value in times:
            assert ISO_UTC.match(value), (path, value)
    joined = dt.datetime.fromisoformat(bodies["/api/v1/me"]["date_joined"])
    assert joined == shanghai.date_joined


def test_me_and_public_card_keep_their_fields(shanghai: User) -> None:
    me = api_client_for(shanghai).get("/api/v1/me").json()
    assert set(me) == {
        "id", "phone", "phone_display", "phone_verified", "language", "time_zone",
        "nickname", "gender", "bio", "date_of_birth", "age", "identity_verified",
        "push_enabled", "hidden_from_discover", "dm_from", "date_joined", "avatar",
        "voice_intro",
    }  # fmt: skip
    assert me["id"] == str(shanghai.uuid)
    card = api_client_for(make_user()).get(f"/api/v1/users/{shanghai.uuid}").json()
    assert card == {
        "id": str(shanghai.uuid),
        "nickname": "上海",
        "gender": shanghai.gender,
        "age": None if shanghai.date_of_birth is None else card["age"],
        "verified": False,
        "avatar": None,
        "voice_intro": None,
    }
