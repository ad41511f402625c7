"""The task broker is down (issue 13): every task sent after a commit either waits in
the outbox, is resumed by a beat sweep, or is a clear 503 — never a 500.

These tests run in autocommit (``transaction=True``) so that ``on_commit`` callbacks run
inside the request or the service, as on a real server, against a real Redis broker
that is not listening (the ``broker_down`` fixture).
"""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.db import transaction
from django.test import Client

from chat.calls import services as calls
from chat.models import Call, CallState
from meetnow.models import TaskOutbox
from privacy.lifecycle import jobs_resume_stalled, request_create
from privacy.models import PolicyDocument, PrivacyRequest, RequestStatus
from privacy.services import document_publish
from tests.factories.accounts import UserFactory
from tests.factories.chat import make_direct, make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 192.0.2.7\r\n"}


def test_a_login_code_that_cannot_be_sent_is_a_503_to_retry(
    broker_down: str, settings: LazySettings
) -> None:
    settings.SMS_BACKEND = "locmem"
    UserFactory.create(phone="+8613600136077")
    response = Client(raise_request_exception=False).post(
        "/_allauth/app/v1/auth/code/request",
        {"phone": "+8613600136077"},
        content_type="application/json",
    )
    # The code expires in minutes, so it is not kept for later: the app asks again.
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["errors"][0]["code"] == "service_unavailable"


def test_a_call_still_rings_and_ends_while_the_broker_is_down(broker_down: str) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = make_direct(alice, bob)
    # The ring push and the ring timeout cannot be sent; the call rings on the socket
    # anyway and ends on read when overdue (calls_expire_overdue).
    call = calls.call_invite(
        caller=alice, conversation_uuid=conversation.uuid, media="audio", offer=OFFER
    )
    assert Call.objects.get(pk=call.pk).state == CallState.RINGING
    declined = api_client_for(bob).post(f"/api/v1/calls/{call.uuid}/decline", format="json")
    assert declined.status_code == 200, declined.content
    assert Call.objects.get(pk=call.pk).state == CallState.ENDED


def test_a_privacy_job_that_cannot_be_enqueued_is_resumed_by_the_beat_sweep(
    broker_down: str,
) -> None:
    user = make_user()
    # The export job is enqueued after the request commits; the broker refuses it.
    request = request_create(user=user, kind="access", identity_confirmed=True)
    assert PrivacyRequest.objects.get(pk=request.pk).status == RequestStatus.IN_PROCESSING
    assert jobs_resume_stalled() == [request.pk]


def test_a_non_material_policy_update_waits_in_the_outbox(broker_down: str) -> None:
    document = PolicyDocument.objects.create(
        kind="user_agreement",
        version="9.1",
        title="user agreement 9.1",
        body="New text.",
        body_zh_hans="新文本。",
        material_change=False,
    )
    with transaction.atomic():
        document_publish(document=document)
    kept = TaskOutbox.objects.get()
    assert kept.kwargs == {"document_id": document.pk}
    assert kept.task.startswith("privacy.")
