"""A push token cannot be taken over by another account (issue 13, finding 8)."""

from __future__ import annotations

from accounts.models import Device
from tests.factories.chat import make_user
from tests.helpers import api_client_for

DEVICE = {"device_id": "install-victim", "platform": "ios", "push_token": "apns-secret-token"}


def _holder(token: str) -> list[tuple[int, str]]:
    return list(Device.objects.filter(push_token=token).values_list("user_id", "device_id"))


def test_another_installation_cannot_claim_a_registered_token(db: None) -> None:
    victim, attacker = make_user(), make_user()
    assert api_client_for(victim).post("/api/v1/devices", DEVICE).status_code == 201

    response = api_client_for(attacker).post(
        "/api/v1/devices", {**DEVICE, "device_id": "install-attacker"}
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["status"] == 409
    assert body["errors"][0]["code"] == "push_token_taken"
    assert body["errors"][0]["param"] == "push_token"
    # The victim keeps the token; the attacker got no device row with it.
    assert _holder("apns-secret-token") == [(victim.pk, "install-victim")]
    assert not Device.objects.filter(user=attacker).exists()


def test_an_attacker_cannot_claim_it_by_updating_an_existing_device(db: None) -> None:
    victim, attacker = make_user(), make_user()
    api_client_for(victim).post("/api/v1/devices", DEVICE)
    client = api_client_for(attacker)
    mine = {"device_id": "install-attacker", "platform": "android", "push_token": "own"}
    assert client.post("/api/v1/devices", mine).status_code == 201
    response = client.post("/api/v1/devices", {**mine, "push_token": DEVICE["push_token"]})
    assert response.status_code == 409
    assert _holder("apns-secret-token") == [(victim.pk, "install-victim")]
    assert _holder("own") == [(attacker.pk, "install-attacker")]


def test_the_same_installation_moves_its_token_to_the_account_signed_in_now(db: None) -> None:
    first, second = make_user(), make_user()
    api_client_for(first).post("/api/v1/devices", DEVICE)
    # Another account signs in on the same phone (same installation id).
    assert api_client_for(second).post("/api/v1/devices", DEVICE).status_code == 201
    assert _holder("apns-secret-token") == [(second.pk, "install-victim")]


def test_the_same_account_moves_its_token_after_a_reinstall(db: None) -> None:
    user = make_user()
    client = api_client_for(user)
    client.post("/api/v1/devices", DEVICE)
    assert client.post("/api/v1/devices", {**DEVICE, "device_id": "reinstalled"}).status_code == 201
    assert _holder("apns-secret-token") == [(user.pk, "reinstalled")]
