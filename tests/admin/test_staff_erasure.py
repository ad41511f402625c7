"""Staff start an erasure from the admin (P13, P14): a minor, a banned account, a
verified request that came another way — with a reason, in the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.models import User
from accounts.services import user_ban
from meetnow.lib.adminkit import audit_message
from privacy.erasure import erasure_leftovers
from privacy.models import PrivacyRequest, RequestStatus
from tests.admin.conftest import login_mfa_passed
from tests.factories.privacy import user_with_history

pytestmark = pytest.mark.django_db

URL = "/admin/privacy/privacyrequest/start-erasure/"


def test_staff_erase_a_banned_account_with_a_reason_and_the_audit_entry(
    support_agent: User,
    celery_eager: None,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    world = user_with_history(messages=2, files=1)
    me = world["me"]
    user_id = me.pk
    user_ban(user=me)
    client = login_mfa_passed(Client(), support_agent)

    listing = client.get("/admin/privacy/privacyrequest/")
    assert URL in listing.content.decode()  # the queue offers it
    assert client.get(URL).status_code == 200

    # No reason: refused, nothing started.
    refused = client.post(URL, {"user": str(me.uuid), "ground": "banned", "reason": " "})
    assert refused.status_code == 200
    assert not PrivacyRequest.objects.filter(user=me).exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            URL, {"user": str(me.uuid), "ground": "banned", "reason": "Fraud ring, ticket 4411"}
        )
    assert done.status_code == 302
    privacy_request = PrivacyRequest.objects.get(kind="erasure")
    assert done["Location"] == f"/admin/privacy/privacyrequest/{privacy_request.pk}/change/"
    # The job ran: nothing of the account is left.
    assert privacy_request.status == RequestStatus.COMPLETE
    assert not User.objects.filter(pk=user_id).exists()
    assert erasure_leftovers(user_id=user_id) == {}
    started = privacy_request.events.get(action="started_by_staff")
    assert started.actor == support_agent
    assert started.note == "banned: Fraud ring, ticket 4411"
    entry = LogEntry.objects.get(user=support_agent, object_id=str(privacy_request.pk))
    assert "Fraud ring, ticket 4411" in audit_message(entry.change_message)
    assert world["friend"].pk in set(User.objects.values_list("pk", flat=True))


def test_unknown_account_or_ground_starts_nothing(support_agent: User) -> None:
    me = user_with_history(messages=1, files=0)["me"]
    client = login_mfa_passed(Client(), support_agent)
    for data in (
        {"user": "7d1e0a54-4f0e-4a54-9d7b-5f8f0f0f0f0f", "ground": "underage", "reason": "x"},
        {"user": str(me.uuid), "ground": "dislike", "reason": "x"},
        {"user": str(support_agent.uuid), "ground": "underage", "reason": "x"},
    ):
        page = client.post(URL, data)
        assert page.status_code == 200
    assert not PrivacyRequest.objects.exists()
    me.refresh_from_db()
    assert me.is_active


def test_staff_without_the_privacy_role_cannot_start_an_erasure(moderator: User) -> None:
    me = user_with_history(messages=1, files=0)["me"]
    client = login_mfa_passed(Client(), moderator)
    assert client.get(URL).status_code == 403
    client.post(URL, {"user": str(me.uuid), "ground": "underage", "reason": "x"})
    assert not PrivacyRequest.objects.exists()
