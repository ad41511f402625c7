"""The restricted rights session (P13, P17): a banned account or one in the deletion
cooling-off can still export, follow its privacy requests, cancel the deletion and
ask support — every other endpoint is 403 ``restricted_session``."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client, TestCase
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_ban
from accounts.sms import backends
from privacy.lifecycle import request_create
from privacy.models import PrivacyRequest, RequestStatus
from privacy.selectors import documents_current
from privacy.services import consent_record
from support.models import SupportTicket
from tests.factories.chat import make_user

pytestmark = pytest.mark.django_db

RIGHTS: dict[str, Any] = {"HTTP_X_RIGHTS_ACCESS": "1"}


@pytest.fixture(autouse=True)
def _sms(settings: LazySettings, celery_eager: None) -> None:
    settings.SMS_BACKEND = "locmem"
    backends.outbox.clear()


def _consenting_user() -> User:
    user = make_user()
    consent_record(user=user, documents=documents_current().values(), ip_address="203.0.113.1")
    return user


def _code_login(user: User, **headers: Any) -> tuple[int, dict[str, Any]]:
    app = Client()
    with TestCase.captureOnCommitCallbacks(execute=True):
        sent = app.post(
            "/_allauth/app/v1/auth/code/request",
            {"phone": str(user.phone)},
            content_type="application/json",
            **headers,
        )
    assert sent.status_code == 401, sent.content  # a code is pending
    token = sent.json()["meta"]["session_token"]
    confirmed = app.post(
        "/_allauth/app/v1/auth/code/confirm",
        {"code": backends.outbox[-1].code},
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
        **headers,
    )
    return confirmed.status_code, confirmed.json()


def _rights_client(body: dict[str, Any]) -> APIClient:
    assert body["data"]["restricted"] is True
    api = APIClient()
    api.credentials(HTTP_X_RIGHTS_TOKEN=body["data"]["rights_token"])
    return api


def test_banned_account_gets_a_rights_session_that_reaches_only_rights_and_support() -> None:
    user = _consenting_user()
    user_ban(user=user)
    status, body = _code_login(user, **RIGHTS)
    assert status == 200, body
    assert body["data"]["reason"] == "banned"
    api = _rights_client(body)

    # Export: the code just entered confirms identity, so the request goes ahead.
    export = api.post("/api/v1/privacy/requests", {"kind": "access"}, format="json")
    assert export.status_code == 201, export.content
    assert export.json()["status"] != RequestStatus.IDENTITY_UNVERIFIED
    assert api.get("/api/v1/privacy/requests").status_code == 200
    assert api.get(f"/api/v1/privacy/requests/{export.json()['uuid']}").status_code == 200

    ticket = api.post("/api/v1/support/tickets", {"text": "Why was I banned?"}, format="json")
    assert ticket.status_code == 201, ticket.content
    assert SupportTicket.objects.filter(user=user).count() == 1
    assert api.get(f"/api/v1/support/tickets/{ticket.json()['uuid']}").status_code == 200

    for method, path in (
        ("get", "/api/v1/me"),
        ("get", "/api/v1/conversations"),
        ("post", "/api/v1/devices"),
        ("get", "/api/v1/privacy/consents"),
    ):
        refused = getattr(api, method)(path)
        assert refused.status_code == 403, path
        assert refused.json()["errors"][0]["code"] == "restricted_session", path

    user.refresh_from_db()
    assert user.is_banned  # nothing was lifted

    assert api.delete("/api/v1/privacy/rights-session").status_code == 204
    after = api.get("/api/v1/privacy/requests")
    assert after.status_code == 401
    assert after.json()["errors"][0]["code"] == "invalid_token"


def test_banned_login_without_asking_for_rights_is_still_refused() -> None:
    user = _consenting_user()
    user_ban(user=user)
    app = Client()
    refused = app.post(
        "/_allauth/app/v1/auth/code/request",
        {"phone": str(user.phone)},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "account_banned"
    assert backends.outbox == []


def test_cooling_off_account_exports_and_cancels_the_deletion_from_a_rights_session() -> None:
    user = _consenting_user()
    erasure = request_create(user=user, kind="erasure", identity_confirmed=True)
    user.refresh_from_db()
    assert not user.is_active
    status, body = _code_login(user, **RIGHTS)
    assert status == 200, body
    assert body["data"]["reason"] == "pending_erasure"
    erasure.refresh_from_db()
    assert erasure.status == RequestStatus.SCHEDULED  # logging in this way cancels nothing
    api = _rights_client(body)

    listed = api.get("/api/v1/privacy/requests").json()
    assert [r["uuid"] for r in listed["results"]] == [str(erasure.uuid)]
    assert (
        api.post("/api/v1/privacy/requests", {"kind": "access"}, format="json").status_code == 201
    )
    assert api.get("/api/v1/me").status_code == 403

    canceled = api.post(f"/api/v1/privacy/requests/{erasure.uuid}/cancel")
    assert canceled.status_code == 200, canceled.content
    assert PrivacyRequest.objects.get(pk=erasure.pk).status == RequestStatus.CANCELED
    user.refresh_from_db()
    assert user.is_active  # the account is back; a normal login works again
    status, body = _code_login(user)
    assert status == 200
    assert "session_token" in body["meta"]


def test_active_account_asking_for_rights_logs_in_normally() -> None:
    user = _consenting_user()
    status, body = _code_login(user, **RIGHTS)
    assert status == 200
    assert "session_token" in body["meta"]
    assert "rights_token" not in body.get("data", {})
