"""Re-consent gate, consent withdrawal, public documents and processors (P1, P9, P16),
and cancelling a pending deletion by logging in with a code (P13)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_create
from privacy.consents import (
    GATE_GENERATION_CACHE_KEY,
    GATE_SESSION_KEY,
    gate_generation,
    gate_session_stamp,
)
from privacy.lifecycle import request_create
from privacy.models import ConsentWithdrawal, PolicyDocument, PrivacyRequest, RequestStatus
from privacy.selectors import documents_current
from privacy.services import consent_record, document_publish
from tests.factories.chat import make_user
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db


def _consenting_user() -> User:
    user = make_user()
    consent_record(user=user, documents=documents_current().values(), ip_address="203.0.113.1")
    return user


def _logged_in(user: User) -> tuple[APIClient, str]:
    """A session as a real login leaves it: token plus the gate stamp."""
    token = session_token_for(user)
    gate_session_stamp(session=SessionStore(session_key=token), user_id=user.pk)
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=token)
    return client, token


def _publish(kind: str, version: str, *, material: bool = True) -> PolicyDocument:
    document = PolicyDocument.objects.create(
        kind=kind,
        version=version,
        title=f"{kind} {version}",
        body="New text.",
        body_zh_hans="新文本。",
        material_change=material,
    )
    return document_publish(document=document)


def test_material_version_gates_the_api_until_accepted() -> None:
    user = _consenting_user()
    client, _ = _logged_in(user)
    assert client.get("/api/v1/me").status_code == 200
    _publish("privacy_policy", "2.0")
    refused = client.get("/api/v1/me")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "reconsent_required"
    assert refused.json()["status"] == 403
    # What the app needs to show and accept the new text, export or delete stays open.
    current = client.get("/api/v1/privacy/documents/current").json()["documents"]
    assert {d["kind"]: d["version"] for d in current}["privacy_policy"] == "2.0"
    assert client.get("/api/v1/privacy/consents").json()["required"] == "reconsent_required"
    assert client.get("/api/v1/privacy/requests").status_code == 200
    stale = client.post(
        "/api/v1/privacy/consents",
        {"action": "accept", "versions": {"privacy_policy": "1.0"}},
        format="json",
    )
    assert stale.status_code == 400
    assert stale.json()["errors"][0]["code"] == "version_not_current"
    accepted = client.post(
        "/api/v1/privacy/consents",
        {"action": "accept", "versions": {"privacy_policy": "2.0"}},
        format="json",
    )
    assert accepted.status_code == 200
    assert accepted.json()["required"] is None
    assert client.get("/api/v1/me").status_code == 200


def test_non_material_version_does_not_gate() -> None:
    user = _consenting_user()
    client, _ = _logged_in(user)
    _publish("user_agreement", "1.2", material=False)
    assert client.get("/api/v1/me").status_code == 200


def test_withdrawal_is_one_call_and_locks_the_app_but_not_export_or_deletion() -> None:
    user = _consenting_user()
    client, _ = _logged_in(user)
    withdrawn = client.post(
        "/api/v1/privacy/consents",
        {"action": "withdraw", "document_kinds": ["privacy_policy"]},
        format="json",
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["required"] == "consent_withdrawn"
    assert ConsentWithdrawal.objects.filter(user=user, restored_at__isnull=True).count() == 1
    request = PrivacyRequest.objects.get(user=user, kind="consent_withdrawal")
    assert request.status == RequestStatus.COMPLETE
    refused = client.get("/api/v1/me")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "consent_withdrawn"
    assert client.post("/api/v1/privacy/requests", {"kind": "access"}).status_code == 201
    history = client.get("/api/v1/privacy/consents").json()["history"]
    assert [h["action"] for h in history][-1] == "withdrawn"
    again = client.post(
        "/api/v1/privacy/consents",
        {"action": "accept", "versions": {"privacy_policy": "1.1"}},
        format="json",
    )
    assert again.json()["required"] is None
    assert client.get("/api/v1/me").status_code == 200


def test_withdrawal_reaches_the_users_other_sessions() -> None:
    from allauth.usersessions.models import UserSession

    user = _consenting_user()
    client, _ = _logged_in(user)
    other, other_token = _logged_in(user)
    UserSession.objects.create(user=user, session_key=other_token, ip="203.0.113.2")
    client.post("/api/v1/privacy/consents", {"action": "withdraw"}, format="json")
    assert other.get("/api/v1/me").status_code == 403


def test_gate_costs_no_query_while_nothing_changed(
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    user = _consenting_user()
    stamped, _ = _logged_in(user)
    stamped.get("/api/v1/me")  # warm
    plain = APIClient()
    plain.credentials(HTTP_X_SESSION_TOKEN=session_token_for(user))
    plain.get("/api/v1/me")
    with django_assert_max_num_queries(100) as ctx_plain:
        plain.get("/api/v1/me")
    with django_assert_num_queries(len(ctx_plain.captured_queries)):
        stamped.get("/api/v1/me")


def test_accounts_made_outside_sign_up_are_gated_until_they_consent_and_give_their_age() -> None:
    """An account made in the admin, a shell or an import never consented and has no
    date of birth: after login it is gated like any account without current consent
    (P1), then by the age rule (P14); a minor's date of birth is refused, not stored."""
    user = user_create(phone="+8613712340001", phone_verified=True)  # no sign-up
    client, _ = _logged_in(user)
    refused = client.get("/api/v1/me")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "consent_required"
    assert client.get("/api/v1/privacy/consents").json()["required"] == "consent_required"
    current = {d.kind: d.version for d in documents_current().values()}
    versions = {k: current[k] for k in ("privacy_policy", "user_agreement")}
    accepted = client.post(
        "/api/v1/privacy/consents", {"action": "accept", "versions": versions}, format="json"
    )
    assert accepted.status_code == 200
    assert accepted.json()["required"] == "date_of_birth_required"
    assert client.get("/api/v1/me").json()["errors"][0]["code"] == "date_of_birth_required"
    today = timezone.localdate()
    minor = today.replace(year=today.year - 15, day=1)
    young = client.post(
        "/api/v1/privacy/consents",
        {"action": "accept", "date_of_birth": minor.isoformat()},
        format="json",
    )
    assert young.status_code == 400
    assert young.json()["errors"][0]["code"] == "underage"
    user.refresh_from_db()
    assert user.date_of_birth is None  # nothing about the minor is kept
    adult = client.post(
        "/api/v1/privacy/consents",
        {"action": "accept", "date_of_birth": "1990-04-02"},
        format="json",
    )
    assert adult.status_code == 200
    assert adult.json()["required"] is None
    assert client.get("/api/v1/me").status_code == 200
    again = client.post(
        "/api/v1/privacy/consents",
        {"action": "accept", "date_of_birth": "1991-04-02"},
        format="json",
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "date_of_birth_set"


def test_an_imported_minor_stays_gated_at_login() -> None:
    """A date of birth under the minimum age (an import) gates the account even with
    consent: nothing the person accepts lets a minor use the app (P14)."""
    today = timezone.localdate()
    minor = today.replace(year=today.year - 16, day=1)
    user = user_create(phone="+8613712340002", phone_verified=True, date_of_birth=minor)
    consent_record(user=user, documents=documents_current().values(), ip_address=None)
    client, _ = _logged_in(user)
    refused = client.get("/api/v1/discover")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "underage"
    assert client.get("/api/v1/privacy/requests").status_code == 200  # export, deletion


def test_public_documents_and_processors() -> None:
    anonymous = APIClient()
    documents = anonymous.get("/api/v1/privacy/documents/current")
    assert documents.status_code == 200
    assert {d["kind"] for d in documents.json()["documents"]} == {
        "identity_notice",  # the separate consent of identity verification (optional)
        "privacy_policy",
        "user_agreement",
    }
    processors = anonymous.get("/api/v1/privacy/processors")
    assert processors.status_code == 200
    assert all(p["data"] for p in processors.json()["processors"])


def _processor_names() -> list[str]:
    response = APIClient().get("/api/v1/privacy/processors")
    assert response.status_code == 200
    return [p["name"] for p in response.json()["processors"]]


def test_the_processor_list_follows_the_configured_backends(settings: LazySettings) -> None:
    """P9: the public list names exactly the outside services the configuration sends
    data to (SMS provider, storage, TURN relay, push services, identity and login
    providers), whole list checked for two configurations."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        name: {**conf, "APPS": []} for name, conf in settings.SOCIALACCOUNT_PROVIDERS.items()
    }
    settings.SMS_BACKEND = "twilio"
    settings.STORAGE_BACKEND = "s3"
    settings.MEETNOW_TURN_URLS = ["turn:turn.example.com:3478"]
    settings.PUSH_BACKEND = "native"
    settings.IDENTITY_PROVIDER = "tencent"
    assert _processor_names() == [
        "Twilio",
        "Firebase Cloud Messaging (Google)",
        "Apple Push Notification service",
        "Object storage (S3-compatible)",
        "TURN relay (the operator's or a third party's TURN server)",
        "Identity verification provider (Tencent Cloud FaceID)",
    ]
    settings.SMS_BACKEND = "http"
    settings.STORAGE_BACKEND = "local"
    settings.MEETNOW_TURN_URLS = []
    settings.PUSH_BACKEND = "apns"
    settings.IDENTITY_PROVIDER = "console"
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "wechat": {**settings.SOCIALACCOUNT_PROVIDERS["wechat"], "APPS": [{"client_id": "wx1"}]},
    }
    assert _processor_names() == [
        "SMS gateway (the operator's HTTP SMS provider)",
        "Apple Push Notification service",
        "WeChat Login",
    ]


def test_consents_api_rejects_bad_input() -> None:
    client, _ = _logged_in(_consenting_user())
    for payload, code in (
        ({"action": "sign"}, "invalid_choice"),
        ({"action": "accept"}, "versions_required"),
        ({"action": "accept", "versions": {"cookies": "1"}}, "invalid_document_kind"),
        ({"action": "withdraw", "document_kinds": ["cookies"]}, "invalid_document_kinds"),
    ):
        response = client.post("/api/v1/privacy/consents", payload, format="json")
        assert response.status_code == 400, payload
        assert response.json()["errors"][0]["code"] == code
    assert APIClient().get("/api/v1/privacy/consents").status_code == 401


def test_login_with_a_code_during_the_grace_period_cancels_deletion(
    settings: LazySettings,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    from accounts.sms import backends

    settings.SMS_BACKEND = "locmem"
    backends.outbox.clear()
    user = _consenting_user()
    erasure = request_create(user=user, kind="erasure", identity_confirmed=True)
    user.refresh_from_db()
    assert not user.is_active
    app = Client()
    with django_capture_on_commit_callbacks(execute=True):
        sent = app.post(
            "/_allauth/app/v1/auth/code/request",
            {"phone": str(user.phone)},
            content_type="application/json",
        )
    assert sent.status_code == 401, sent.content  # a code is pending
    token = sent.json()["meta"]["session_token"]
    code = backends.outbox[-1].code
    confirmed = app.post(
        "/_allauth/app/v1/auth/code/confirm",
        {"code": code},
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert confirmed.status_code == 200, confirmed.content
    erasure.refresh_from_db()
    assert erasure.status == RequestStatus.CANCELED
    assert erasure.cancel_reason == "logged_in_during_grace_period"
    user.refresh_from_db()
    assert user.is_active
    session_token = confirmed.json()["meta"]["session_token"]
    assert GATE_SESSION_KEY in SessionStore(session_key=session_token)  # login stamped it
    api = APIClient()
    api.credentials(HTTP_X_SESSION_TOKEN=session_token)
    assert api.get("/api/v1/me").status_code == 200
    backends.outbox.clear()


def test_banned_account_is_not_unlocked_by_cancelling() -> None:
    from accounts.services import user_ban
    from privacy.lifecycle import request_cancel

    user = _consenting_user()
    erasure = request_create(user=user, kind="erasure", identity_confirmed=True)
    user_ban(user=user)
    request_cancel(privacy_request=erasure, actor=None, reason="test")
    user.refresh_from_db()
    assert not user.is_active


def test_a_non_material_version_is_announced_on_every_stream_and_in_the_app(
    celery_eager: None, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    from chat.models import Event

    user = _consenting_user()
    other = _consenting_user()
    client, _ = _logged_in(user)
    assert client.get("/api/v1/privacy/consents").json()["updates"] == []
    with django_capture_on_commit_callbacks(execute=True):
        _publish("user_agreement", "1.2", material=False)
    # Not gated: the app keeps working.
    assert client.get("/api/v1/me").status_code == 200
    # An event on each account's stream (sync and the socket)...
    for person in (user, other):
        event = Event.objects.get(user=person, type="privacy.policy_updated")
        assert event.payload == {"kind": "user_agreement", "version": "1.2", "material": False}
    synced = client.get("/api/v1/sync", {"since": 0}).json()
    assert "privacy.policy_updated" in [e["type"] for e in synced["events"]]
    # ...and the in-app notice until the user accepts the new text.
    updates = client.get("/api/v1/privacy/consents").json()["updates"]
    assert [(u["kind"], u["version"], u["material"]) for u in updates] == [
        ("user_agreement", "1.2", False)
    ]
    accepted = client.post(
        "/api/v1/privacy/consents",
        {"action": "accept", "versions": {"user_agreement": "1.2"}},
        format="json",
    )
    assert accepted.status_code == 200
    assert accepted.json()["updates"] == []
    # A material version is not announced this way: it gates (tested above).
    with django_capture_on_commit_callbacks(execute=True):
        _publish("privacy_policy", "3.0", material=True)
    assert not Event.objects.filter(user=user, payload__version="3.0").exists()


def _cache_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Every read of the default cache from now on: ("get", [key]) or ("get_many", keys)."""
    from django.core.cache import caches

    backend = type(caches["default"])
    reads: list[tuple[str, list[str]]] = []
    get, get_many = backend.get, backend.get_many

    def spy_get(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(("get", [key]))
        return get(self, key, *args, **kwargs)

    def spy_get_many(self: Any, keys: Any, *args: Any, **kwargs: Any) -> Any:
        keys = list(keys)
        reads.append(("get_many", keys))
        return get_many(self, keys, *args, **kwargs)

    monkeypatch.setattr(backend, "get", spy_get)
    monkeypatch.setattr(backend, "get_many", spy_get_many)
    return reads


def test_the_gate_reads_the_generation_in_the_sessions_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = _consenting_user()
    client, token = _logged_in(user)
    assert client.get("/api/v1/me").status_code == 200  # the generation is cached now
    reads = _cache_reads(monkeypatch)
    assert client.get("/api/v1/me").status_code == 200
    session_key = SessionStore(session_key=token).cache_key
    assert ("get_many", [session_key, GATE_GENERATION_CACHE_KEY]) in reads
    # Neither is read again on its own: one round trip for both.
    assert not [
        keys
        for kind, keys in reads
        if kind == "get" and keys[0] in (session_key, GATE_GENERATION_CACHE_KEY)
    ]


def test_a_stale_session_is_refused_when_read_with_the_generation() -> None:
    """The generation read in the session's round trip is the current one, cached or
    not: a session stamped before a material version is refused either way."""
    user = _consenting_user()
    client, _ = _logged_in(user)
    assert client.get("/api/v1/me").status_code == 200
    _publish("privacy_policy", "2.0")  # drops the cached generation
    assert cache.get(GATE_GENERATION_CACHE_KEY) is None
    refused = client.get("/api/v1/me")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "reconsent_required"

    other_user = _consenting_user()
    other, _ = _logged_in(other_user)
    _publish("user_agreement", "2.0")
    assert gate_generation() == cache.get(GATE_GENERATION_CACHE_KEY)  # cached, new
    refused = other.get("/api/v1/me")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "reconsent_required"


def test_a_session_missing_from_the_cache_is_read_from_its_row() -> None:
    """The combined read falls back to the session's row when its cache entry is gone
    (a cache restart): the user is still signed in and still gated."""
    user = _consenting_user()
    client, token = _logged_in(user)
    cache.delete(SessionStore(session_key=token).cache_key)
    assert client.get("/api/v1/me").status_code == 200
    cache.delete(SessionStore(session_key=token).cache_key)
    _publish("privacy_policy", "2.0")
    assert client.get("/api/v1/me").status_code == 403
    unknown = APIClient()
    unknown.credentials(HTTP_X_SESSION_TOKEN="x" * 32)
    assert unknown.get("/api/v1/me").status_code == 401
