"""Privacy requests: lifecycle of each kind, identity step, deadlines, audit, the API (P13, P17)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import staff_create
from meetnow.lib.deadlines import add_working_days, due_for_phone
from meetnow.lib.errors import ApplicationError
from privacy.jobs import EXPORT_TASK
from privacy.lifecycle import (
    request_approve,
    request_cancel,
    request_create,
    request_deny,
    request_extend,
    request_hold_lift,
    request_hold_place,
    request_mark_duplicate,
    request_retry,
    requests_expire_unverified,
)
from privacy.models import (
    ConsentWithdrawal,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestKind,
    RequestStatus,
)
from privacy.stats import stats_requests_open, suppress
from privacy.transitions import request_complete, request_fail
from tests.conftest import SentTasks
from tests.factories.chat import make_user
from tests.factories.privacy import confirm_identity
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db
S = RequestStatus


def _client(user: User) -> tuple[APIClient, str]:
    token = session_token_for(user)
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=token)
    return client, token


@pytest.fixture
def staff() -> User:
    return staff_create(username="support", password="x-long-password-1")


# --- Deadlines ---------------------------------------------------------------------------


def test_working_days_skip_weekends() -> None:
    friday = dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    assert add_working_days(friday, 1) == dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
    assert add_working_days(friday, 15) == dt.datetime(2026, 12, 18, 10, tzinfo=dt.UTC)


def test_due_at_from_per_kind_sla_and_overdue(settings: LazySettings) -> None:
    settings.MEETNOW_PRIVACY_SLA_DAYS_BY_KIND = {**settings.MEETNOW_PRIVACY_SLA_DAYS_BY_KIND}
    settings.MEETNOW_PRIVACY_SLA_DAYS_BY_KIND["rectification"] = 5
    user = make_user()
    r = request_create(user=user, kind="rectification", details="My birthday is wrong")
    assert r.due_at == due_for_phone(received_at=r.received_at, days=5, phone=user.phone)
    assert not r.is_overdue
    PrivacyRequest.objects.filter(pk=r.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    r.refresh_from_db()
    assert r.is_overdue
    assert stats_requests_open()["overdue"] is None  # 1 is below the suppression threshold
    assert suppress(7) == 7


def test_extension_needs_reason_and_later_date(staff: User) -> None:
    r = request_create(user=make_user(), kind="rectification", details="Fix my gender")
    with pytest.raises(ApplicationError) as exc:
        request_extend(
            privacy_request=r, actor=staff, until=r.due_at + dt.timedelta(days=30), reason=" "
        )
    assert exc.value.code == "reason_required"
    with pytest.raises(ApplicationError):
        request_extend(privacy_request=r, actor=staff, until=r.due_at, reason="complex")
    r = request_extend(
        privacy_request=r, actor=staff, until=r.due_at + dt.timedelta(days=30), reason="complex"
    )
    assert r.effective_due_at == r.extended_due_at
    assert r.events.filter(action="extended", note="complex", actor=staff).exists()


# --- Lifecycles ------------------------------------------------------------------------------


def test_identity_required_before_anything_happens() -> None:
    user = make_user()
    r = request_create(user=user, kind="erasure")
    assert r.status == S.IDENTITY_UNVERIFIED
    user.refresh_from_db()
    assert user.is_active  # nothing locked before identity is confirmed


def test_rectification_lifecycle_with_staff(staff: User) -> None:
    user = make_user()
    r = request_create(
        user=user, kind="rectification", details="Wrong date of birth", identity_confirmed=True
    )
    assert r.status == S.PENDING
    assert r.identity_verified_at is not None
    r = request_approve(privacy_request=r, actor=staff)
    assert r.status == S.APPROVED
    assert r.reviewed_by == staff
    r = request_complete(privacy_request=r, actor=staff, note="corrected")
    assert r.status == S.COMPLETE
    assert r.finished_at is not None
    actions = list(r.events.order_by("id").values_list("action", "to_status"))
    assert actions == [
        ("created", S.IDENTITY_UNVERIFIED),
        ("identity_verified", S.PENDING),
        ("approved", S.APPROVED),
        ("completed", S.COMPLETE),
    ]


def test_deny_needs_a_reason_the_user_sees(staff: User) -> None:
    r = request_create(user=make_user(), kind="rectification", details="x", identity_confirmed=True)
    with pytest.raises(ApplicationError):
        request_deny(privacy_request=r, actor=staff, reason="")
    r = request_deny(privacy_request=r, actor=staff, reason="We can't verify that document.")
    assert r.status == S.DENIED
    assert r.denial_reason


def test_access_lifecycle_runs_the_export(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = request_create(user=user, kind="access", identity_confirmed=True)
    assert callbacks
    r.refresh_from_db()
    assert r.status == S.COMPLETE
    assert r.progress == 100
    assert r.archive_key
    statuses = list(r.events.order_by("id").values_list("to_status", flat=True))
    assert statuses == [S.IDENTITY_UNVERIFIED, S.PENDING, S.APPROVED, S.IN_PROCESSING, S.COMPLETE]


def test_an_access_request_enqueues_its_export_once(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks, celery_sent: SentTasks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = request_create(user=make_user(), kind="access", identity_confirmed=True)
    assert [(t.name, t.kwargs) for t in celery_sent] == [(EXPORT_TASK, {"request_id": r.pk})]
    r.refresh_from_db()
    assert r.status == S.IN_PROCESSING  # the worker has not built it yet
    assert not r.archive_key


def test_one_export_per_interval() -> None:
    user = make_user()
    request_create(user=user, kind="access", identity_confirmed=True)
    with pytest.raises(ApplicationError) as exc:
        request_create(user=user, kind="access", identity_confirmed=True)
    assert exc.value.code == "export_too_soon"
    assert exc.value.status_code == 429


def test_erasure_lifecycle_locks_then_schedules(settings: LazySettings) -> None:
    user = make_user()
    token = session_token_for(user)
    r = request_create(user=user, kind="erasure", identity_confirmed=True)
    assert r.status == S.SCHEDULED
    user.refresh_from_db()
    assert not user.is_active
    from rest_framework.test import APIClient

    locked_out = APIClient()
    locked_out.credentials(HTTP_X_SESSION_TOKEN=token)
    assert locked_out.get("/api/v1/privacy/requests").status_code == 401
    grace = dt.timedelta(days=settings.MEETNOW_ERASURE_GRACE_DAYS)
    assert r.scheduled_for is not None
    assert r.scheduled_for <= r.effective_due_at - dt.timedelta(days=1)
    assert abs((r.scheduled_for - r.received_at) - grace) < dt.timedelta(minutes=1)


def test_consent_withdrawal_needs_no_code_and_completes() -> None:
    user = make_user()
    r = request_create(user=user, kind="consent_withdrawal", document_kinds=["privacy_policy"])
    assert r.status == S.COMPLETE
    assert ConsentWithdrawal.objects.filter(user=user, kind="privacy_policy").exists()


def test_one_open_erasure_and_duplicates(staff: User) -> None:
    user = make_user()
    request_create(user=user, kind="erasure")
    with pytest.raises(ApplicationError) as exc:
        request_create(user=user, kind="erasure")
    assert exc.value.code == "erasure_already_requested"
    first = request_create(user=user, kind="rectification", details="a")
    second = request_create(user=user, kind="rectification", details="a again")
    second = request_mark_duplicate(privacy_request=second, actor=staff, original=first)
    assert second.status == S.DUPLICATE
    assert second.duplicate_of == first


def test_hold_retry_cancel(staff: User) -> None:
    r = request_create(user=make_user(), kind="erasure", identity_confirmed=True)
    with pytest.raises(ApplicationError):
        request_hold_place(privacy_request=r, actor=staff, reason="")
    r = request_hold_place(privacy_request=r, actor=staff, reason="open abuse report")
    assert r.on_legal_hold
    r = request_hold_lift(privacy_request=r, actor=staff, reason="report closed")
    assert not r.on_legal_hold
    PrivacyRequest.objects.filter(pk=r.pk).update(status=S.IN_PROCESSING)
    r.refresh_from_db()
    r = request_fail(privacy_request=r, error_code="boom")
    assert r.status == S.ERROR
    PrivacyRequest.objects.filter(pk=r.pk).update(legal_hold_at=timezone.now())  # no enqueue
    r.refresh_from_db()
    r = request_retry(privacy_request=r, actor=staff)
    assert r.status == S.IN_PROCESSING
    assert r.error_code == ""
    with pytest.raises(ApplicationError) as exc:
        request_cancel(privacy_request=r, actor=r.user)
    assert exc.value.code == "invalid_request_state"
    actions = set(PrivacyRequestEvent.objects.filter(request=r).values_list("action", flat=True))
    assert {"legal_hold_placed", "legal_hold_lifted", "failed", "retried"} <= actions


def test_unverified_requests_expire() -> None:
    r = request_create(user=make_user(), kind="access")
    PrivacyRequest.objects.filter(pk=r.pk).update(received_at=timezone.now() - dt.timedelta(days=2))
    assert requests_expire_unverified() == 1
    r.refresh_from_db()
    assert r.status == S.CANCELED
    assert r.cancel_reason == "identity_not_verified"
    assert requests_expire_unverified() == 0


def test_audit_events_are_append_only() -> None:
    r = request_create(user=make_user(), kind="access")
    event = r.events.get()
    event.note = "changed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


# --- API ------------------------------------------------------------------------------------


def test_api_create_without_code_waits_for_identity_then_verify() -> None:
    user = make_user()
    client, token = _client(user)
    response = client.post("/api/v1/privacy/requests", {"kind": "rectification", "details": "fix"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "identity_unverified"
    assert body["identity_required"]
    url = f"/api/v1/privacy/requests/{body['uuid']}/verify"
    refused = client.post(url)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "identity_required"
    confirm_identity(token, user)
    assert client.post(url).json()["status"] == "pending"


def test_api_code_confirms_one_request_only() -> None:
    user = make_user()
    client, token = _client(user)
    confirm_identity(token, user)
    first = client.post("/api/v1/privacy/requests", {"kind": "rectification", "details": "a"})
    assert first.json()["status"] == "pending"
    second = client.post("/api/v1/privacy/requests", {"kind": "rectification", "details": "b"})
    assert second.json()["status"] == "identity_unverified"


def test_api_stale_code_does_not_count(settings: LazySettings) -> None:
    import time

    user = make_user()
    client, token = _client(user)
    confirm_identity(token, user, at=time.time() - settings.MEETNOW_PRIVACY_IDENTITY_MAX_AGE - 5)
    response = client.post("/api/v1/privacy/requests", {"kind": "rectification", "details": "a"})
    assert response.json()["status"] == "identity_unverified"


def test_api_list_detail_cancel_and_object_permission(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    user = make_user()
    other = make_user()
    client, _ = _client(user)
    mine = [request_create(user=user, kind="rectification", details=f"r{i}") for i in range(3)]
    theirs = request_create(user=other, kind="rectification", details="theirs")
    client.get("/api/v1/privacy/requests")  # warm the session cache
    with django_assert_num_queries(2):  # the user, the page
        listed = client.get("/api/v1/privacy/requests")
    uuids = [item["uuid"] for item in listed.json()["results"]]
    assert set(uuids) == {str(r.uuid) for r in mine}
    detail = client.get(f"/api/v1/privacy/requests/{mine[0].uuid}").json()
    assert detail["due_at"]
    assert detail["overdue"] is False
    assert detail["status"] == "identity_unverified"
    assert client.get(f"/api/v1/privacy/requests/{theirs.uuid}").status_code == 404
    assert client.get("/api/v1/privacy/requests/not-a-uuid").status_code == 404
    assert client.post(f"/api/v1/privacy/requests/{theirs.uuid}/cancel").status_code == 404
    canceled = client.post(f"/api/v1/privacy/requests/{mine[0].uuid}/cancel")
    assert canceled.json()["status"] == "canceled"
    again = client.post(f"/api/v1/privacy/requests/{mine[0].uuid}/cancel")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "invalid_request_state"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"kind": "nope"}, "invalid_choice"),
        ({}, "required"),
        ({"kind": "rectification"}, "details_required"),
        ({"kind": "consent_withdrawal", "document_kinds": ["cookies"]}, "invalid_document_kinds"),
        ({"kind": "access", "details": 5 * "x" * 1000}, "max_length"),
    ],
)
def test_api_bad_input_is_a_4xx_in_the_error_shape(payload: dict[str, Any], code: str) -> None:
    client, _ = _client(make_user())
    response = client.post("/api/v1/privacy/requests", payload, format="json")
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["status"] == response.status_code
    assert body["errors"][0]["code"] == code


def test_api_requires_authentication() -> None:
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/privacy/requests").status_code == 401


def test_api_real_reauthentication_by_code(
    settings: LazySettings,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    """The identity step end to end: allauth's reauthenticate-by-code, then the request."""
    from django.test import Client

    from accounts.sms import backends

    settings.SMS_BACKEND = "locmem"
    backends.outbox.clear()
    user = make_user()
    client, token = _client(user)
    raw = Client()
    with django_capture_on_commit_callbacks(execute=True):
        sent = raw.post(
            "/_allauth/app/v1/auth/reauthenticate/code/request",
            {"phone": str(user.phone)},
            content_type="application/json",
            HTTP_X_SESSION_TOKEN=token,
        )
    assert sent.status_code < 500, sent.content
    assert backends.outbox, "no code was sent"
    code = backends.outbox[-1].code
    confirmed = raw.post(
        "/_allauth/app/v1/auth/reauthenticate/code/confirm",
        {"code": code},
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert confirmed.status_code == 200, confirmed.content
    response = client.post("/api/v1/privacy/requests", {"kind": "rectification", "details": "x"})
    assert response.json()["status"] == "pending"
    backends.outbox.clear()


def test_staff_can_act_on_request_through_admin(staff: User, client: Client) -> None:
    r = request_create(user=make_user(), kind="rectification", details="a", identity_confirmed=True)
    client.force_login(staff)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    change = f"/admin/privacy/privacyrequest/{r.pk}/change/"
    page = client.get(change)
    assert page.status_code == 200
    approve = f"/admin/privacy/privacyrequest/{r.pk}/act/approve/"
    assert approve in page.content.decode()  # the console offers the action
    done = client.post(approve)
    assert done.status_code == 302
    assert done["Location"] == change
    r.refresh_from_db()
    assert r.status != RequestStatus.PENDING
    assert r.events.filter(action="approved", actor=staff).exists()


def test_kind_choices_cover_the_issue() -> None:
    assert set(RequestKind.values) == {"access", "rectification", "erasure", "consent_withdrawal"}


def _record(token: str, user: User, method: str) -> None:
    import time

    from django.contrib.sessions.backends.cached_db import SessionStore

    session = SessionStore(session_key=token)
    session["account_authentication_methods"] = [{"method": method, "at": time.time()}]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


def test_social_login_confirms_identity_only_for_accounts_without_a_phone() -> None:
    from accounts.services import user_create

    social_only = user_create(nickname="wechat user")  # signed up with a provider, no phone
    client, token = _client(social_only)
    _record(token, social_only, "socialaccount")
    body = client.post("/api/v1/privacy/requests", {"kind": "rectification", "details": "a"})
    assert body.json()["status"] == "pending"

    with_phone = make_user()
    client, token = _client(with_phone)
    _record(token, with_phone, "socialaccount")
    body = client.post("/api/v1/privacy/requests", {"kind": "rectification", "details": "a"})
    assert body.json()["status"] == "identity_unverified"  # the code to the phone is needed


def test_api_deadlines_readable_in_the_users_language_and_zone() -> None:
    user = make_user()
    user.time_zone = "Asia/Shanghai"
    user.save(update_fields=["time_zone"])
    client, _token = _client(user)
    r = request_create(user=user, kind="rectification", details="a", identity_confirmed=True)
    # 20:30 UTC is 04:30 the next day in Shanghai.
    PrivacyRequest.objects.filter(pk=r.pk).update(
        due_at=dt.datetime(2026, 1, 2, 20, 30, tzinfo=dt.UTC),
        scheduled_for=dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.UTC),
    )
    url = f"/api/v1/privacy/requests/{r.uuid}"
    body = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    assert body["due_at"] == "2026-01-02T20:30:00Z"  # for machines, unchanged
    assert body["due_at_display"] == "2026年1月3日 04:30"
    assert body["scheduled_for_display"] == "2026年1月1日 09:00"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["due_at_display"] == "Jan. 3, 2026, 4:30 a.m."
    r2 = request_create(user=user, kind="access", identity_confirmed=True)
    assert client.get(f"/api/v1/privacy/requests/{r2.uuid}").json()["scheduled_for_display"] is None
