"""MEETNOW_VERIFIED_ONLY in chat (P7): off by default; "messages" and "calls" can need it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import LazySettings

from accounts.models import User
from chat import calls
from chat.models import Conversation
from meetnow.lib.errors import ApplicationError
from tests.factories.chat import make_direct, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def _send(user: User, conversation: Conversation) -> Any:
    return api_client_for(user).post(
        f"/api/v1/conversations/{conversation.uuid}/messages",
        {"client_id": str(uuid.uuid4()), "text": "hi"},
        format="json",
    )


def test_unverified_people_chat_and_call_unless_the_operator_says_otherwise(
    settings: LazySettings,
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    direct = make_direct(alice, bob)
    assert not alice.identity_verified
    assert _send(alice, direct).status_code == 201  # default: nothing needs verification

    settings.MEETNOW_VERIFIED_ONLY = ["messages", "calls"]
    refused = _send(alice, direct)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "identity_verification_required"
    assert refused.json()["errors"][0]["param"] == "messages"
    with pytest.raises(ApplicationError) as caught:
        calls.call_invite(caller=alice, conversation_uuid=direct.uuid, media="audio")
    assert (caught.value.status_code, caught.value.param) == (403, "calls")

    bob.identity_verified = True
    bob.save(update_fields=["identity_verified"])
    assert _send(bob, direct).status_code == 201
    call = calls.call_invite(caller=bob, conversation_uuid=direct.uuid, media="audio")
    assert call.caller_id == bob.pk
