"""Sign-up consent (P1, P14, P16): versions, time and IP recorded; publishing in the admin."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import staff_create
from privacy.models import Consent, PolicyDocument
from privacy.selectors import documents_current, documents_missing_consent
from tests.accounts.conftest import App
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(django_capture_on_commit_callbacks: Any) -> App:
    return App(django_capture_on_commit_callbacks)


@pytest.fixture
def outbox(settings: Any) -> Any:
    from accounts.sms import backends

    settings.SMS_BACKEND = "locmem"
    backends.outbox.clear()
    yield backends.outbox
    backends.outbox.clear()


def _signup(app: App, **overrides: Any) -> tuple[int, dict[str, Any]]:
    current = documents_current()
    data = {
        "phone": "+8613800138000",
        "date_of_birth": "1990-06-01",
        "privacy_policy_version": current["privacy_policy"].version,
        "user_agreement_version": current["user_agreement"].version,
        **overrides,
    }
    return app.call("POST", "/auth/signup", data)


def _publish_new_privacy_policy(version: str = "2.0") -> PolicyDocument:
    return PolicyDocument.objects.create(
        kind="privacy_policy",
        version=version,
        title="Privacy policy",
        body="New text",
        published_at=timezone.now(),
    )


def test_consent_records_versions_time_and_client_ip(
    app: App, outbox: Any, settings: LazySettings
) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1  # one load balancer in front
    before = timezone.now()
    status, _ = app.call(
        "POST",
        "/auth/signup",
        {
            "phone": "+8613800138000",
            "date_of_birth": "1990-06-01",
            "privacy_policy_version": "1.1",
            "user_agreement_version": "1.1",
        },
        headers={"X-Forwarded-For": "198.51.100.23"},
    )
    assert status == 401
    user = User.objects.get()
    consents = {c.kind: c for c in Consent.objects.filter(user=user)}
    assert set(consents) == {"privacy_policy", "user_agreement"}
    assert {k: c.version for k, c in consents.items()} == {
        "privacy_policy": "1.1",
        "user_agreement": "1.1",
    }
    for consent in consents.values():
        assert consent.ip_address == "198.51.100.23"
        assert before <= consent.accepted_at <= timezone.now()
    assert documents_missing_consent(user_id=user.pk) == []


def test_a_newly_published_version_must_be_accepted(app: App, outbox: Any) -> None:
    _publish_new_privacy_policy("2.0")
    status, body = _signup(app, privacy_policy_version="1.0")
    assert status == 400
    assert body["errors"][0] == {
        "code": "consent_required",
        "message": body["errors"][0]["message"],
        "param": "privacy_policy_version",
    }
    assert "2.0" in body["errors"][0]["message"]
    assert User.objects.count() == 0
    status, _ = _signup(app, privacy_policy_version="2.0", user_agreement_version="1.1")
    assert status == 401
    assert sorted(Consent.objects.values_list("version", flat=True)) == ["1.1", "2.0"]


def test_existing_users_owe_consent_to_a_material_change() -> None:
    user = UserFactory.create(consented=False)
    for document in documents_current().values():
        Consent.objects.create(
            user=user, document=document, kind=document.kind, version=document.version
        )
    assert documents_missing_consent(user_id=user.pk) == []
    new = _publish_new_privacy_policy("2.0")
    assert documents_missing_consent(user_id=user.pk) == [new]


def test_drafts_are_not_current() -> None:
    PolicyDocument.objects.create(kind="privacy_policy", version="3.0-draft", title="t", body="b")
    assert documents_current()["privacy_policy"].version == "1.1"


def test_sign_up_is_closed_until_documents_are_published(app: App, outbox: Any) -> None:
    PolicyDocument.objects.update(published_at=None)
    status, body = app.call(
        "POST",
        "/auth/signup",
        {
            "phone": "+8613800138000",
            "date_of_birth": "1990-06-01",
            "privacy_policy_version": "1.0",
            "user_agreement_version": "1.0",
        },
    )
    assert status == 400
    assert {e["code"] for e in body["errors"]} == {"policy_unavailable"}
    assert User.objects.count() == 0


@pytest.fixture
def admin_client(db: None, settings: Any) -> Client:
    settings.MEETNOW_STAFF_MFA_REQUIRED = False  # two-factor login is tested in tests/admin
    client = Client()
    client.force_login(staff_create(username="root", password="x" * 16, superuser=True))
    return client


def test_staff_publish_a_version_in_the_admin(admin_client: Client) -> None:
    draft = PolicyDocument.objects.create(
        kind="user_agreement",
        version="1.2",
        title="Agreement",
        body="Text",
        title_zh_hans="协议",
        body_zh_hans="正文",
    )
    response = admin_client.post(
        "/admin/privacy/policydocument/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None
    assert documents_current()["user_agreement"] == draft
    # A published version can no longer be edited or deleted.
    page = admin_client.get(f"/admin/privacy/policydocument/{draft.pk}/change/")
    assert page.status_code == 200
    assert b'name="body"' not in page.content
    assert admin_client.post(f"/admin/privacy/policydocument/{draft.pk}/delete/").status_code == 403


def test_consent_records_are_read_only_in_the_admin(admin_client: Client) -> None:
    user = UserFactory.create(consented=False)
    document = documents_current()["privacy_policy"]
    consent = Consent.objects.create(
        user=user,
        document=document,
        kind=document.kind,
        version=document.version,
        accepted_at=timezone.now() - dt.timedelta(days=1),
        ip_address="203.0.113.5",
    )
    assert admin_client.get("/admin/privacy/consent/").status_code == 200
    assert admin_client.get("/admin/privacy/consent/add/").status_code == 403
    page = admin_client.get(f"/admin/privacy/consent/{consent.pk}/change/")
    assert page.status_code == 200
    assert b'name="ip_address"' not in page.content
