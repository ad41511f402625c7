"""Group invitations (issue 15): someone who is neither a match nor an accepted
conversation partner of whoever adds them is invited, sees nothing of the group until
they accept, and shows in its member list as ``invited``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accounts.models import User
from tests.factories.chat import make_direct, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

V = "/api/v1"


def _roles(api: Any, conv: str) -> dict[str, str]:
    body = api.get(f"{V}/conversations/{conv}").json()
    return {m["user"]["uuid"]: m["role"] for m in body["members"]}


def _group(owner: User, *users: User) -> str:
    response = api_client_for(owner).post(
        f"{V}/conversations",
        {"title": "Hikers", "users": [str(u.uuid) for u in users]},
        format="json",
    )
    assert response.status_code == 201, response.content
    return str(response.json()["uuid"])


def test_a_stranger_is_invited_and_sees_nothing_until_accepting() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    make_direct(alice, bob)  # an accepted partner: added at once
    alice_api, carol_api = api_client_for(alice), api_client_for(carol)
    conv = _group(alice, bob, carol)
    assert _roles(alice_api, conv) == {
        str(alice.uuid): "owner",
        str(bob.uuid): "member",
        str(carol.uuid): "invited",
    }
    alice_api.post(
        f"{V}/conversations/{conv}/messages",
        {"client_id": str(uuid.uuid4()), "text": "members only"},
        format="json",
    )
    # Carol: not in her list, 404 on every endpoint of the group, no event but the
    # invitation itself.
    assert conv not in [c["uuid"] for c in carol_api.get(f"{V}/conversations").json()["results"]]
    assert carol_api.get(f"{V}/conversations/{conv}").status_code == 404
    assert carol_api.get(f"{V}/conversations/{conv}/messages").status_code == 404
    send = carol_api.post(
        f"{V}/conversations/{conv}/messages",
        {"client_id": str(uuid.uuid4()), "text": "hi"},
        format="json",
    )
    assert send.status_code == 404
    events = carol_api.get(f"{V}/sync", {"since": 0}).json()["events"]
    assert [(e["type"], e["conversation"], e["user"]) for e in events] == [
        ("group.invitation", conv, str(alice.uuid))
    ]
    invitations = carol_api.get(f"{V}/chat/invitations").json()["results"]
    assert [(i["conversation"], i["title"], i["invited_by"]["uuid"]) for i in invitations] == [
        (conv, "Hikers", str(alice.uuid))
    ]
    accepted = carol_api.post(f"{V}/chat/invitations/{conv}/accept")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["uuid"] == conv
    assert _roles(alice_api, conv)[str(carol.uuid)] == "member"
    history = carol_api.get(f"{V}/conversations/{conv}/messages").json()["results"]
    assert history[0]["system"]["action"] == "members_added"
    assert carol_api.get(f"{V}/chat/invitations").json()["results"] == []
    assert carol_api.post(f"{V}/chat/invitations/{conv}/accept").status_code == 404


def test_a_declined_invitation_hides_the_group_and_is_not_sent_again() -> None:
    alice, bob, dave = make_user("alice"), make_user("bob"), make_user("dave")
    make_direct(alice, bob)
    alice_api, dave_api = api_client_for(alice), api_client_for(dave)
    conv = _group(alice, bob)
    added = alice_api.post(
        f"{V}/conversations/{conv}/members", {"users": [str(dave.uuid)]}, format="json"
    )
    assert added.status_code == 204
    assert _roles(alice_api, conv)[str(dave.uuid)] == "invited"
    assert dave_api.post(f"{V}/chat/invitations/{conv}/decline").status_code == 204
    assert str(dave.uuid) not in _roles(alice_api, conv)
    assert dave_api.get(f"{V}/conversations/{conv}").status_code == 404
    alice_api.post(f"{V}/conversations/{conv}/members", {"users": [str(dave.uuid)]}, format="json")
    assert dave_api.get(f"{V}/chat/invitations").json()["results"] == []
    assert dave_api.post(f"{V}/chat/invitations/{conv}/accept").status_code == 404
    assert dave_api.post(f"{V}/chat/invitations/not-a-uuid/decline").status_code == 404


@pytest.mark.parametrize("size", [2, 5])
def test_invitations_list_has_a_fixed_query_count(
    size: int, django_assert_num_queries: Any
) -> None:
    me = make_user("me")
    for i in range(size):
        _group(make_user(f"owner{i}"), me)
    api = api_client_for(me)
    # session user, the page of invitations with their groups and inviters.
    with django_assert_num_queries(1 + 1):
        response = api.get(f"{V}/chat/invitations")
    assert len(response.json()["results"]) == size
