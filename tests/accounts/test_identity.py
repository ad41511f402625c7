"""Identity verification (issue 18, P7, P14, P18): validation, consent, flow, limits, privacy."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts.identity.idnumber import id_number_clean, id_number_hash, id_number_mask, name_mask
from accounts.identity.models import IdentityCallbackNonce, IdentityVerification
from accounts.identity.permissions import VerifiedOnly, verified_required
from accounts.identity.services import (
    callback_signature,
    identity_verification_check,
)
from accounts.identity.tasks import identity_sweep_task
from accounts.models import User
from meetnow.lib.errors import ApplicationError
from privacy.models import PrivacyRequest, RequestKind
from privacy.registry import get_registry
from privacy.retention import retention_purge
from tests.accounts.identity_helpers import check_char, identity_consent, make_id, years_ago
from tests.factories.accounts import UserFactory
from tests.helpers import api_client_for, session_token_for

# Uploads are processed (and checks run) by the task they enqueue: run it in-process.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

NAME = "张三丰"
SECRET = "callback-secret-for-tests"
VALID_ID = make_id()  # 110105 19900307 123 + check


@pytest.fixture(autouse=True)
def _console(settings: LazySettings) -> None:
    settings.IDENTITY_PROVIDER = "console"
    settings.IDENTITY_CONSOLE_DELAY = 0
    settings.IDENTITY_DAILY_ATTEMPTS = 3
    settings.IDENTITY_CALLBACK_SECRET = SECRET
    settings.MEETNOW_VERIFIED_ONLY = []


@pytest.fixture(autouse=True)
def _never_logged(log_secrets: set[str]) -> None:
    """The suite-wide log check fails the run if an ID number reaches any log record."""
    log_secrets.update({VALID_ID, make_id(birth=years_ago(16)), "张三丰"})


def test_logs_redact_id_numbers() -> None:
    from meetnow.lib.logging import redact

    assert redact(f"start {VALID_ID} and 11010519491231002X.") == (
        "start [id-number] and [id-number]."
    )


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[..., Any]:
    return django_capture_on_commit_callbacks


def start(
    client: APIClient, run: Callable[..., Any], *, name: str = NAME, id_number: str = VALID_ID
) -> tuple[int, dict[str, Any]]:
    """POST a verification; what is enqueued on commit (the worker's check) runs."""
    with run(execute=True):
        response = client.post(
            "/api/v1/identity/verifications", {"name": name, "id_number": id_number}, format="json"
        )
    return response.status_code, response.json()


# --- ID numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "code"),
    [
        (VALID_ID, None),
        ("11010519491231002X", None),  # the standard's own example, check character X
        ("11010519491231002x", None),  # lower-case x accepted
        (" 110105 19491231 002X ", None),  # spaces dropped
        (VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1"), "id_number_checksum"),
        ("11010519491231002", "id_number_length"),
        ("11010519491231002X1", "id_number_length"),
        ("1101051949123100AX", "id_number_format"),
        ("11010519491231002Y", "id_number_format"),
        (make_id(birth="19900230"), "id_number_birth_date"),  # no 30 February
        (make_id(birth="19901301"), "id_number_birth_date"),  # no month 13
        (make_id(birth=years_ago(-1)), "id_number_birth_date"),  # born next year
        (make_id(region="000000"), "id_number_region"),
        (make_id(region="991234"), "id_number_region"),
    ],
)
def test_id_number_validation_table(number: str, code: str | None) -> None:
    if code is None:
        clean = id_number_clean(number)
        assert len(clean) == 18
        assert clean[-1] == check_char(clean[:17])
        return
    with pytest.raises(ApplicationError) as caught:
        id_number_clean(number)
    assert caught.value.code == code
    assert caught.value.param == "id_number"


def test_masks_and_hash() -> None:
    assert name_mask("张三") == "张*"
    assert name_mask("欧阳娜娜") == "欧***"
    assert id_number_mask(VALID_ID) == "**************" + VALID_ID[-4:]
    assert id_number_hash(VALID_ID) == id_number_hash(VALID_ID)
    assert id_number_hash(VALID_ID) != id_number_hash(make_id(seq="124"))
    assert VALID_ID not in id_number_hash(VALID_ID)


def test_malformed_input_is_a_clear_400(run_on_commit: Any) -> None:
    user = UserFactory.create()
    identity_consent(user)
    client = api_client_for(user)
    for body, code, param in [
        ({"name": NAME, "id_number": make_id(region="000000")}, "id_number_region", "id_number"),
        ({"name": NAME, "id_number": "123"}, "id_number_length", "id_number"),
        ({"name": "", "id_number": VALID_ID}, "blank", "name"),
        ({"name": "R2-D2 <script>", "id_number": VALID_ID}, "name_invalid", "name"),
        ({"name": NAME}, "required", "id_number"),
        ({"name": NAME, "id_number": VALID_ID, "face": "x"}, "unknown_field", "face"),
    ]:
        with run_on_commit(execute=True):
            response = client.post("/api/v1/identity/verifications", body, format="json")
        assert response.status_code == 400, body
        error = response.json()["errors"][0]
        assert (error["code"], error["param"]) == (code, param), body
    assert not IdentityVerification.objects.exists()


# --- Consent, flow, status -------------------------------------------------------------


def test_separate_consent_is_required_then_the_worker_verifies(run_on_commit: Any) -> None:
    user = UserFactory.create(date_of_birth=dt.date(1999, 1, 1))
    client = api_client_for(user)
    assert client.get("/api/v1/identity").json() == {
        "status": "none",
        "reason_code": "",
        "verified_at": None,
        "attempts_left": 3,
        "consent_given": False,
    }
    # The policy and agreement consents of sign-up are not the separate consent.
    status, payload = start(client, run_on_commit)
    assert status == 403
    assert payload["errors"][0]["code"] == "identity_consent_required"
    assert not IdentityVerification.objects.exists()

    identity_consent(user)
    assert client.get("/api/v1/identity").json()["consent_given"] is True
    status, payload = start(client, run_on_commit)
    assert status == 201, payload
    assert payload["status"] == "pending"
    assert payload["provider"] == "console"
    assert payload["client"]["biz_token"].startswith("console-")
    # The check the start enqueued ran (the worker's path): verified.
    state = client.get("/api/v1/identity").json()
    assert state["status"] == "verified"
    assert state["verified_at"] is not None
    user.refresh_from_db()
    assert user.identity_verified
    assert user.date_of_birth == dt.date(1990, 3, 7)  # the verified age replaces the declared one

    # Others see the badge and nothing else of it.
    other = api_client_for(UserFactory.create())
    card = other.get(f"/api/v1/users/{user.uuid}").json()
    assert card["verified"] is True
    assert not {"identity", "birth_date", "date_of_birth", "reason_code"} & set(card)
    listed = other.get("/api/v1/discover").json()["results"]
    assert [(u["id"], u["verified"]) for u in listed] == [(str(user.uuid), True)]

    # Nothing sensitive in clear: neither the number nor the name in any column.
    row = IdentityVerification.objects.values().get()
    stored = json.dumps(row, default=str)
    assert VALID_ID not in stored
    assert VALID_ID[:14] not in stored
    assert NAME not in stored
    assert row["masked_name"] == "张**"
    assert row["masked_id_number"].endswith(VALID_ID[-4:])

    again, payload = start(client, run_on_commit)
    assert again == 409
    assert payload["errors"][0]["code"] == "identity_already_verified"


def test_withdrawing_the_separate_consent_removes_the_verification(run_on_commit: Any) -> None:
    user = UserFactory.create()
    identity_consent(user)
    client = api_client_for(user)
    assert start(client, run_on_commit)[0] == 201
    assert User.objects.get(pk=user.pk).identity_verified

    with run_on_commit(execute=True):
        response = client.post(
            "/api/v1/privacy/consents",
            {"action": "withdraw", "document_kinds": ["identity_notice"]},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert not IdentityVerification.objects.filter(user=user).exists()
    assert not User.objects.get(pk=user.pk).identity_verified
    assert client.get("/api/v1/identity").json()["status"] == "none"
    # The rest of the app keeps working (P7): the policy consent was not touched.
    assert client.get("/api/v1/me").status_code == 200
    status, payload = start(client, run_on_commit)
    assert status == 403
    assert payload["errors"][0]["code"] == "identity_consent_required"


def test_failure_has_a_reason_code_and_attempts_are_limited_per_day(
    run_on_commit: Any, settings: LazySettings
) -> None:
    user = UserFactory.create()
    identity_consent(user)
    client = api_client_for(user)
    for left in (2, 1, 0):
        status, payload = start(client, run_on_commit, name="测试失败")
        assert status == 201
        state = client.get("/api/v1/identity").json()
        assert (state["status"], state["reason_code"], state["attempts_left"]) == (
            "failed",
            "face_mismatch",
            left,
        )
    status, payload = start(client, run_on_commit)
    assert status == 429
    assert payload["errors"][0]["code"] == "identity_attempts_exhausted"
    assert IdentityVerification.objects.filter(user=user).count() == 3
    # A day later the user may try again.
    IdentityVerification.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert start(client, run_on_commit)[0] == 201


def test_pending_until_the_provider_answers_then_expired(
    run_on_commit: Any, settings: LazySettings
) -> None:
    settings.IDENTITY_CONSOLE_DELAY = 3600
    user = UserFactory.create()
    identity_consent(user)
    client = api_client_for(user)
    assert start(client, run_on_commit)[0] == 201
    verification = IdentityVerification.objects.get(user=user)
    assert client.get("/api/v1/identity").json()["status"] == "pending"
    # A new start replaces the pending one (it counts as an attempt).
    assert start(client, run_on_commit)[0] == 201
    verification.refresh_from_db()
    assert (verification.status, verification.reason_code) == ("failed", "abandoned")
    latest = IdentityVerification.objects.get(user=user, status="pending")
    IdentityVerification.objects.filter(pk=latest.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=settings.IDENTITY_PENDING_TTL + 1)
    )
    with run_on_commit(execute=True):
        identity_sweep_task.delay()
    latest.refresh_from_db()
    assert (latest.status, latest.reason_code) == ("failed", "expired")


# --- Duplicates ------------------------------------------------------------------------------


def test_one_id_verifies_one_account(run_on_commit: Any) -> None:
    first, second = UserFactory.create(), UserFactory.create()
    identity_consent(first)
    identity_consent(second)
    assert start(api_client_for(first), run_on_commit)[0] == 201
    status, payload = start(api_client_for(second), run_on_commit)
    assert status == 409
    assert payload["errors"][0] == {
        "code": "identity_number_in_use",
        "message": payload["errors"][0]["message"],
        "param": "id_number",
    }
    assert VALID_ID not in payload["errors"][0]["message"]
    refused = IdentityVerification.objects.get(user=second)
    assert (refused.status, refused.reason_code) == ("failed", "duplicate_id")
    assert refused.id_hash == IdentityVerification.objects.get(user=first).id_hash
    assert not User.objects.get(pk=second.pk).identity_verified


def test_two_accounts_racing_with_one_id_verify_only_one(
    run_on_commit: Any, settings: LazySettings
) -> None:
    settings.IDENTITY_CONSOLE_DELAY = 3600
    first, second = UserFactory.create(), UserFactory.create()
    for user in (first, second):
        identity_consent(user)
        assert start(api_client_for(user), run_on_commit)[0] == 201
    settings.IDENTITY_CONSOLE_DELAY = 0
    for user in (first, second):
        identity_verification_check(verification_id=IdentityVerification.objects.get(user=user).pk)
    statuses = dict(IdentityVerification.objects.values_list("user_id", "reason_code"))
    assert statuses == {first.pk: "", second.pk: "duplicate_id"}
    verified = dict(
        User.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "identity_verified")
    )
    assert verified == {first.pk: True, second.pk: False}


# --- Minors (P14) --------------------------------------------------------------------------


def test_verified_minor_is_locked_and_erased(run_on_commit: Any) -> None:
    """Sign-up refuses minors and keeps nothing (P14); a minor revealed by a verified ID
    is treated the same: locked at once, then erased without the grace period."""
    minor = UserFactory.create(date_of_birth=dt.date(1990, 1, 1))  # declared adult at sign-up
    identity_consent(minor)
    token = session_token_for(minor)
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=token)
    status, _ = start(client, run_on_commit, id_number=make_id(birth=years_ago(16)))
    assert status == 201
    assert not User.objects.filter(pk=minor.pk).exists()
    erasure = PrivacyRequest.objects.get(kind=RequestKind.ERASURE)
    assert erasure.status == "complete"
    assert erasure.events.filter(action="minor_verified").exists()
    assert not IdentityVerification.objects.exists()
    assert client.get("/api/v1/me").status_code == 401


def test_adult_by_a_day_is_verified(run_on_commit: Any) -> None:
    user = UserFactory.create()
    identity_consent(user)
    status, _ = start(api_client_for(user), run_on_commit, id_number=make_id(birth=years_ago(18)))
    assert status == 201
    assert User.objects.get(pk=user.pk).identity_verified


# --- Signed callback -------------------------------------------------------------------------


def _callback(
    client: Client,
    body: dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    nonce: str = "nonce-1",
    provider: str = "console",
) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(body).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    response = client.post(
        f"/api/v1/identity/callbacks/{provider}",
        raw,
        content_type="application/json",
        headers={
            "X-Identity-Timestamp": ts,
            "X-Identity-Nonce": nonce,
            "X-Identity-Signature": callback_signature(
                secret=secret, timestamp=ts, nonce=nonce, body=raw
            ),
        },
    )
    return response.status_code, response.json()


def test_callback_signature_replay_and_idempotency(
    run_on_commit: Any, settings: LazySettings
) -> None:
    settings.IDENTITY_CONSOLE_DELAY = 3600
    user = UserFactory.create()
    identity_consent(user)
    assert start(api_client_for(user), run_on_commit)[0] == 201
    verification = IdentityVerification.objects.get(user=user)
    body = {"BizToken": verification.provider_ref}
    client = Client()

    assert _callback(client, body, secret="wrong")[1]["errors"][0]["code"] == "invalid_signature"
    status, payload = _callback(client, body, timestamp=int(time.time()) - 3600)
    assert (status, payload["errors"][0]["code"]) == (401, "stale_callback")
    assert _callback(client, {"BizToken": "console-unknown-ok"}, nonce="n-unknown")[0] == 404
    assert _callback(client, body, provider="tencent", nonce="n-other")[0] == 404

    # A valid notice makes the worker check at once (the verdict comes from the provider).
    settings.IDENTITY_CONSOLE_DELAY = 0
    with run_on_commit(execute=True) as callbacks:
        status, payload = _callback(client, body, nonce="n-1")
    assert (status, payload) == (200, {"status": "pending"})
    assert len(callbacks) == 1
    verification.refresh_from_db()
    assert verification.status == "verified"

    # The same signed request again is a replay.
    status, payload = _callback(client, body, nonce="n-1")
    assert (status, payload["errors"][0]["code"]) == (409, "replayed_callback")
    # A fresh notice about a finished attempt changes nothing and enqueues nothing.
    with run_on_commit(execute=True) as callbacks:
        status, payload = _callback(client, body, nonce="n-2")
    assert (status, payload, callbacks) == (200, {"status": "verified"}, [])
    assert IdentityVerification.objects.get(pk=verification.pk).verified_at == (
        verification.verified_at
    )


def test_callbacks_are_refused_without_a_secret(settings: LazySettings) -> None:
    settings.IDENTITY_CALLBACK_SECRET = ""
    assert _callback(Client(), {"BizToken": "x"}, secret="")[0] == 404
    assert not IdentityCallbackNonce.objects.exists()


# --- Verified-only functions -----------------------------------------------------------------


class _PostsView(APIView):
    permission_classes = [VerifiedOnly.for_function("posts")]

    def post(self, request: Any) -> Any:
        from rest_framework.response import Response

        return Response({"ok": True})


def test_verified_only_functions_answer_403_with_a_code(settings: LazySettings) -> None:
    unverified, verified = UserFactory.create(), UserFactory.create(identity_verified=True)
    view = _PostsView.as_view()
    factory = APIRequestFactory()

    def call(user: User) -> tuple[int, Any]:
        request = factory.post("/x", {}, format="json")
        force_authenticate(request, user=user)
        response = view(request)
        return response.status_code, response.data

    assert call(unverified)[0] == 200  # default: nothing needs verification (P7)
    settings.MEETNOW_VERIFIED_ONLY = ["posts", "voice_match"]
    status, data = call(unverified)
    assert status == 403
    assert data["errors"][0]["code"] == "identity_verification_required"
    assert data["errors"][0]["param"] == "posts"
    assert call(verified)[0] == 200
    with pytest.raises(ApplicationError) as caught:
        verified_required(user=unverified, function="voice_match")
    assert caught.value.status_code == 403
    verified_required(user=unverified, function="messages")  # not listed: allowed


# --- Export, erasure, retention ----------------------------------------------------------------


def test_export_holds_the_masked_record_and_erasure_removes_it(run_on_commit: Any) -> None:
    user = UserFactory.create()
    identity_consent(user)
    assert start(api_client_for(user), run_on_commit)[0] == 201
    registry = get_registry()
    section = next(s for s in registry.export_sections if s.name == "identity_verification")
    rows = section.rows(user.pk, 0, 100)
    assert len(rows) == 1
    record = rows[0][1]
    assert record["status"] == "verified"
    assert record["name"] == "张**"
    assert record["id_number"] == "**************" + VALID_ID[-4:]
    assert record["birth_date"] == "1990-03-07"
    assert VALID_ID not in json.dumps(record)
    assert NAME not in json.dumps(record, ensure_ascii=False)

    step = next(s for s in registry.erase_steps if s.model == "accounts.IdentityVerification")
    ctx = type("Ctx", (), {"user_id": user.pk})()
    assert step.apply(ctx, 500, None) == 1
    assert step.apply(ctx, 500, None) == 0  # idempotent
    remaining = registry.declarations["accounts.IdentityVerification"].remaining
    assert remaining is not None
    assert remaining(user.pk) == 0


def test_the_real_export_zip_holds_the_masked_record(run_on_commit: Any) -> None:
    import io
    import zipfile

    from django.core.files.storage import default_storage

    from privacy.lifecycle import request_create
    from tests.factories.privacy import run_export

    user = UserFactory.create()
    identity_consent(user)
    assert start(api_client_for(user), run_on_commit)[0] == 201
    privacy_request = request_create(user=user, kind="access", identity_confirmed=True)
    run_export(privacy_request)
    privacy_request.refresh_from_db()
    with default_storage.open(privacy_request.archive_key, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    records = json.loads(archive.read("identity_verification.json"))
    assert [(r["status"], r["name"], r["id_number"]) for r in records] == [
        ("verified", "张**", "**************" + VALID_ID[-4:])
    ]
    blob = b"".join(archive.read(name) for name in archive.namelist())
    assert VALID_ID.encode() not in blob
    assert NAME.encode() not in blob
    assert id_number_hash(VALID_ID).encode() not in blob  # the hash is ours, not theirs


def test_retention_purges_failed_attempts_after_30_days(run_on_commit: Any) -> None:
    user = UserFactory.create()
    identity_consent(user)
    client = api_client_for(user)
    start(client, run_on_commit, name="测试失败")
    start(client, run_on_commit, name="测试失败")
    start(client, run_on_commit)
    old, young = IdentityVerification.objects.filter(status="failed").order_by("pk")
    IdentityVerification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    IdentityVerification.objects.filter(status="verified").update(
        created_at=timezone.now() - dt.timedelta(days=400)
    )
    counts = retention_purge()
    assert counts["identity_failed_attempts"] == 1
    assert set(IdentityVerification.objects.values_list("pk", flat=True)) == {
        young.pk,
        IdentityVerification.objects.get(status="verified").pk,
    }
    assert retention_purge()["identity_failed_attempts"] == 0
