"""Phone sign-up and login by code through allauth's headless app API (P1, P2, P14)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client

from accounts.models import SmsDelivery, User
from accounts.sms import backends
from privacy.models import Consent
from tests.accounts.conftest import App

pytestmark = pytest.mark.django_db


def test_signup_with_national_number_then_verify_code(
    app: App, outbox: list[backends.OutgoingMessage], signup_data: dict[str, str]
) -> None:
    status, body = app.call("POST", "/auth/signup", {"phone": "138 0013 8000", **signup_data})
    assert status == 401, body
    pending = [f["id"] for f in body["data"]["flows"] if f.get("is_pending")]
    assert pending == ["verify_phone"]
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == "+8613800138000"
    assert message.channel == "sms"
    assert len(message.code) == 6
    assert message.code.isdigit()

    status, body = app.call("POST", "/auth/phone/verify", {"code": message.code})
    assert status == 200, body
    assert body["meta"]["is_authenticated"] is True
    user = User.objects.get()
    assert str(user.phone) == "+8613800138000"
    assert user.phone_verified is True
    assert str(user.date_of_birth) == "1996-03-14"
    assert sorted(Consent.objects.values_list("kind", flat=True)) == [
        "privacy_policy",
        "user_agreement",
    ]
    delivery = SmsDelivery.objects.get()
    assert delivery.status == "sent"
    assert delivery.masked_phone == "+86 138****8000"

    me_status, me = app.call("GET", "/api/v1/me")
    assert me_status == 200
    assert me["phone"] == "+8613800138000"


def test_a_normal_signup_logs_one_info_line_per_request_and_nothing_louder(
    app: App,
    outbox: list[backends.OutgoingMessage],
    signup_data: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = app.call("POST", "/auth/signup", {"phone": "138 0013 8000", **signup_data})
    assert status == 401  # "verify your phone": part of the flow, not a problem
    status, _ = app.call("POST", "/auth/phone/verify", {"code": outbox[0].code})
    assert status == 200
    assert app.call("GET", "/api/v1/me")[0] == 200
    loud = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records if r.levelno > 20]
    assert loud == []
    lines = [r.getMessage() for r in caplog.records if r.name == "meetnow.request"]
    assert [line.rsplit(" ", 2)[0] for line in lines] == [
        "POST /_allauth/app/v1/auth/signup 401",
        "POST /_allauth/app/v1/auth/phone/verify 200",
        "GET /api/v1/me 200",
    ]


def _pending(body: dict[str, Any]) -> list[str]:
    return [f["id"] for f in body.get("data", {}).get("flows", []) if f.get("is_pending")]


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["code"] for e in body.get("errors", [])]


@pytest.fixture
def member(db: None) -> User:
    from tests.factories.accounts import UserFactory

    return UserFactory.create(phone="+8613900139000", phone_verified=True)


def test_login_by_code_gives_a_token_the_rest_api_accepts(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    status, body = app.call("POST", "/auth/code/request", {"phone": "+86 139 0013 9000"})
    assert status == 401
    assert _pending(body) == ["login_by_code"]
    assert [m.to for m in outbox] == ["+8613900139000"]

    status, body = app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    assert status == 200, body
    # allauth's user payload carries the public UUID, never the integer id (issue 13).
    assert body["data"]["user"]["id"] == str(member.uuid)
    assert "email" not in body["data"]["user"]
    status, session = app.call("GET", "/auth/session")
    assert session["data"]["user"]["id"] == str(member.uuid)
    status, me = app.call("GET", "/api/v1/me")
    assert status == 200
    assert me["id"] == str(member.uuid)

    # Logging out revokes the token at once.
    status, _ = app.call("DELETE", "/auth/session")
    assert status == 401
    status, body = app.call("GET", "/api/v1/me")
    assert status == 401
    assert _codes(body) == ["invalid_token"]


def test_resend_sends_a_fresh_code(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    app.call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    status, _ = app.call("POST", "/auth/code/resend", {})
    assert status == 200
    assert len(outbox) == 2
    status, _ = app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    assert status == 200


def test_voice_channel_reads_the_code_by_phone_call(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    from accounts.models import SmsDelivery

    status, _ = app.call(
        "POST",
        "/auth/code/request",
        {"phone": "+8613900139000"},
        headers={"X-OTP-Channel": "voice"},
    )
    assert status == 401
    assert outbox[-1].channel == "voice"
    assert SmsDelivery.objects.get().channel == "voice"
    status, _ = app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    assert status == 200


def test_wrong_codes_abort_the_flow_after_three_attempts(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    from accounts.models import SecurityEvent

    app.call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    right = outbox[-1].code
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(2):
        status, body = app.call("POST", "/auth/code/confirm", {"code": wrong})
        assert status == 400
        assert _codes(body) == ["incorrect_code"]
    status, body = app.call("POST", "/auth/code/confirm", {"code": wrong})
    assert status in (400, 409)
    # The flow is over: even the right code no longer works.
    status, body = app.call("POST", "/auth/code/confirm", {"code": right})
    assert status == 409
    assert _codes(body) == ["flow_not_pending"]
    status, _ = app.call("GET", "/api/v1/me")
    assert status == 401
    failures = SecurityEvent.objects.filter(kind="login_failed")
    assert failures.count() == 4
    # While the flow was pending, the failures are tied to the account they targeted.
    assert failures.filter(user=member).count() >= 3


def test_expired_code_is_refused(
    app: App, outbox: list[backends.OutgoingMessage], member: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    app.call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 301)
    status, body = app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    assert status == 409
    assert "errors" in body
    status, _ = app.call("GET", "/api/v1/me")
    assert status == 401


def test_invalid_number_is_a_clear_400(
    app: App, outbox: list[backends.OutgoingMessage], signup_data: dict[str, str]
) -> None:
    for phone in ["12ab", "+86 123", "", "0" * 40, 13800138000, ["+8613800138000"]]:
        status, body = app.call("POST", "/auth/signup", {"phone": phone, **signup_data})
        assert status == 400, (phone, body)
        assert body["errors"][0]["param"] == "phone"
    assert User.objects.count() == 0
    assert outbox == []


def test_broken_json_is_a_400_in_the_error_shape(app: App) -> None:
    status, body = app.call("POST", "/auth/signup", raw="{not json")
    assert status == 400
    assert body["status"] == 400
    assert body["errors"][0]["code"]


def test_rate_limit_is_a_429_and_leaves_no_half_made_user(
    app_factory: Callable[[], App],
    outbox: list[backends.OutgoingMessage],
    settings: LazySettings,
    consent: dict[str, str],
) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"verify_phone": "1/30s/key,2/m/ip"}
    answers = []
    for n in range(3):
        status, body = app_factory().call(
            "POST",
            "/auth/signup",
            {"phone": f"+861380013800{n}", "date_of_birth": "1990-01-01", **consent},
        )
        answers.append(status)
    assert answers == [401, 401, 429]
    assert body == {
        "status": 429,
        "errors": [{"code": "rate_limited", "message": body["errors"][0]["message"]}],
    }
    # The third sign-up created its user row before allauth refused: rolled back.
    assert sorted(str(p) for p in User.objects.values_list("phone", flat=True)) == [
        "+8613800138000",
        "+8613800138001",
    ]
    assert len(outbox) == 2
    # The two sign-ups whose code never came back go after 24 hours (P15).
    import datetime as dt

    from django.utils import timezone

    from privacy.retention import retention_purge

    assert retention_purge()["abandoned_signups"] == 0
    assert retention_purge(now=timezone.now() + dt.timedelta(hours=25))["abandoned_signups"] == 2
    assert not User.objects.exists()


def test_too_many_code_requests_for_one_number_is_a_429(
    app_factory: Callable[[], App], outbox: list[backends.OutgoingMessage], member: User
) -> None:
    statuses = [
        app_factory().call("POST", "/auth/code/request", {"phone": "+8613900139000"})[0]
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    assert len(outbox) == 3


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        ({"date_of_birth": "2015-01-01"}, "underage", "date_of_birth"),
        ({"date_of_birth": None}, "required", "date_of_birth"),
        ({"date_of_birth": 19900101}, "invalid", "date_of_birth"),
        ({"privacy_policy_version": None}, "consent_required", "privacy_policy_version"),
        ({"user_agreement_version": "0.9"}, "consent_required", "user_agreement_version"),
    ],
)
def test_signup_refused_without_age_or_consent_stores_nothing(
    app: App,
    outbox: list[backends.OutgoingMessage],
    signup_data: dict[str, str],
    change: dict[str, Any],
    code: str,
    param: str,
) -> None:
    from accounts.models import SecurityEvent, SmsDelivery
    from privacy.models import Consent

    data = {"phone": "+8613800138000", **signup_data, **change}
    data = {k: v for k, v in data.items() if v is not None}
    status, body = app.call("POST", "/auth/signup", data)
    assert status == 400
    assert {"code": code, "param": param} in [
        {"code": e["code"], "param": e.get("param")} for e in body["errors"]
    ]
    assert User.objects.count() == 0
    assert Consent.objects.count() == 0
    assert SmsDelivery.objects.count() == 0
    assert SecurityEvent.objects.count() == 0
    assert outbox == []


def test_min_age_comes_from_settings(
    app: App,
    outbox: list[backends.OutgoingMessage],
    signup_data: dict[str, str],
    settings: LazySettings,
) -> None:
    import datetime as dt

    from django.utils import timezone

    settings.MEETNOW_MIN_AGE = 21
    today = timezone.localdate()
    twenty = (
        today.replace(year=today.year - 20) if today.day < 29 else dt.date(today.year - 20, 1, 1)
    )
    status, body = app.call(
        "POST",
        "/auth/signup",
        {**signup_data, "phone": "+8613800138000", "date_of_birth": twenty.isoformat()},
    )
    assert status == 400
    assert body["errors"][0]["code"] == "underage"


def test_signup_with_a_taken_number_creates_no_second_account(
    app_factory: Callable[[], App],
    outbox: list[backends.OutgoingMessage],
    member: User,
    consent: dict[str, str],
) -> None:
    status, _body = app_factory().call(
        "POST",
        "/auth/signup",
        {"phone": "+8613900139000", "date_of_birth": "1990-01-01", **consent},
    )
    assert status == 401  # no enumeration: the same answer as for a new number
    assert User.objects.count() == 1
    assert outbox[-1].code == ""  # an "account exists" notice, not a code


def test_banned_account_cannot_log_in(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    from accounts.services import user_ban

    user_ban(user=member)
    status, body = app.call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    assert status == 403
    assert _codes(body) == ["account_banned"]
    assert outbox == []  # no code is sent to a banned account
    assert member.security_events.filter(kind="login_refused_banned").exists()


def test_ban_ends_sessions_at_once(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    from accounts.services import user_ban

    app.call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    assert app.call("GET", "/api/v1/me")[0] == 200
    user_ban(user=member)
    status, body = app.call("GET", "/api/v1/me")
    assert status == 401
    assert _codes(body) == ["invalid_token"]


def test_resends_are_limited(
    app: App, app_factory: Callable[[], App], outbox: list[backends.OutgoingMessage], member: User
) -> None:
    app.call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    answers = [app.call("POST", "/auth/code/resend", {}) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200, 409]
    assert _codes(answers[-1][1]) == ["resend_not_possible"]
    assert len(outbox) == 3
    # Starting over does not get around the per-number limit (3 codes a minute).
    status, body = app_factory().call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    assert status == 429
    assert _codes(body) == ["rate_limited"]
    assert len(outbox) == 3


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/code/request", {"phone": 8613900139000}),
        ("/auth/code/request", {"phone": None}),
        ("/auth/code/request", {"phone": {"nested": True}}),
        ("/auth/code/request", {}),
        ("/auth/code/confirm", {"code": ["123456"]}),
        ("/auth/phone/verify", {"code": {"a": 1}}),
        ("/auth/signup", {"phone": "+8613900139000", "date_of_birth": ["1990-01-01"]}),
        ("/auth/signup", {"phone": "+8613900139000", "privacy_policy_version": {"v": 1}}),
        ("/auth/provider/token", {"provider": "nope", "process": "login", "token": "x"}),
        ("/auth/provider/token", {"provider": "google", "process": "hack", "token": {}}),
        ("/auth/provider/signup", {"date_of_birth": "1990-01-01"}),
    ],
)
def test_garbage_input_is_a_4xx_in_the_error_shape(
    app: App, outbox: list[backends.OutgoingMessage], member: User, path: str, data: dict[str, Any]
) -> None:
    status, body = app.call("POST", path, data)
    assert 400 <= status < 500, body
    if status != 401:
        assert body["status"] == status
        assert body["errors"]
        assert all("code" in e for e in body["errors"])


def test_unknown_channel_header_falls_back_to_sms(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    app.call(
        "POST", "/auth/code/request", {"phone": "+8613900139000"}, headers={"X-OTP-Channel": "fax"}
    )
    assert outbox[-1].channel == "sms"


def test_html_signup_pages_are_closed(client: Client, signup_data: dict[str, str]) -> None:
    response = client.post("/accounts/signup/", {"phone": "+8613800138000", **signup_data})
    assert response.status_code == 404
    assert User.objects.count() == 0


def test_change_number_needs_the_code_sent_to_the_new_number(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    app.call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    status, body = app.call("POST", "/account/phone", {"phone": "137 0013 7000"})
    assert status == 202, body
    assert outbox[-1].to == "+8613700137000"
    status, body = app.call("POST", "/auth/phone/verify", {"code": outbox[-1].code})
    assert status == 200, body
    member.refresh_from_db()
    assert (str(member.phone), member.phone_verified) == ("+8613700137000", True)
    status, body = app.call("GET", "/account/phone")
    assert body["data"] == [{"phone": "+8613700137000", "verified": True}]


def test_cannot_take_a_number_another_account_has(
    app: App, outbox: list[backends.OutgoingMessage], member: User
) -> None:
    from tests.factories.accounts import UserFactory

    UserFactory.create(phone="+8613700137000")
    app.call("POST", "/auth/code/request", {"phone": "+8613900139000"})
    app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    status, body = app.call("POST", "/account/phone", {"phone": "+8613700137000"})
    assert status == 202  # no enumeration: the same answer as for a free number
    status, body = app.call("POST", "/auth/phone/verify", {"code": outbox[-1].code})
    assert status == 400
    assert _codes(body) == ["phone_taken"]
    member.refresh_from_db()
    assert str(member.phone) == "+8613900139000"
    assert User.objects.filter(phone="+8613700137000", phone_verified=True).count() == 1


def test_abandoned_signups_are_purged_after_24_hours(
    app_factory: Callable[[], App],
    outbox: list[backends.OutgoingMessage],
    signup_data: dict[str, str],
    member: User,
) -> None:
    import datetime as dt

    from django.utils import timezone

    from privacy.retention import retention_purge
    from tests.factories.accounts import UserFactory

    for n in range(2):  # two sign-ups whose code never came back
        status, _ = app_factory().call(
            "POST", "/auth/signup", {"phone": f"+861380013800{n}", **signup_data}
        )
        assert status == 401
    done = app_factory()
    done.call("POST", "/auth/signup", {"phone": "+8613800138009", **signup_data})
    assert done.call("POST", "/auth/phone/verify", {"code": outbox[-1].code})[0] == 200
    by_shell = UserFactory.create(phone="+8613700137000", phone_verified=False, consented=False)
    day_ago = timezone.now() - dt.timedelta(hours=25)
    User.objects.update(date_joined=day_ago)
    young = app_factory()
    assert young.call("POST", "/auth/signup", {"phone": "+8613800138005", **signup_data})[0] == 401
    assert Consent.objects.filter(user__phone_verified=False).count() == 6

    counts = retention_purge()

    assert counts["abandoned_signups"] == 2
    assert sorted(str(p) for p in User.objects.values_list("phone", flat=True)) == [
        "+8613700137000",
        "+8613800138005",
        "+8613800138009",
        "+8613900139000",
    ]
    assert Consent.objects.filter(user__phone_verified=False).count() == 2  # the young one
    assert User.objects.filter(pk=by_shell.pk).exists()
    assert retention_purge()["abandoned_signups"] == 0


def _session_state(token: str) -> str:
    """Everything the session store holds for a token: the database row (decoded) and
    the cache entry of the cached_db backend, as text."""
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.contrib.sessions.models import Session
    from django.core.cache import caches

    row = Session.objects.get(session_key=token)
    cached = caches["default"].get(KEY_PREFIX + token)
    return f"{row.session_data} {row.get_decoded()!r} {cached!r}"


def test_pending_codes_are_stored_hashed_never_in_clear(
    app: App, outbox: list[backends.OutgoingMessage], member: User, signup_data: dict[str, Any]
) -> None:
    """P12/P18: allauth's session state (database row and cache) holds a keyed hash of a
    pending code, never the code; login, resend and sign-up by code still work."""
    assert app.call("POST", "/auth/code/request", {"phone": str(member.phone)})[0] == 401
    assert app.token is not None
    first = outbox[-1].code
    assert first
    state = _session_state(app.token)
    assert "login_by_code" in state or "authenticate_by_code" in state or "code" in state
    assert first not in state
    assert app.call("POST", "/auth/code/resend", {})[0] == 200
    second = outbox[-1].code
    assert second
    assert second not in _session_state(app.token)
    assert first not in _session_state(app.token)
    assert app.call("POST", "/auth/code/confirm", {"code": first})[0] == 400  # replaced
    assert app.call("POST", "/auth/code/confirm", {"code": second})[0] == 200

    newcomer = App(app.capture)
    status, _ = newcomer.call("POST", "/auth/signup", {"phone": "+8613800138077", **signup_data})
    assert status == 401
    assert newcomer.token is not None
    code = outbox[-1].code
    assert code
    assert code not in _session_state(newcomer.token)
    assert newcomer.call("POST", "/auth/phone/verify", {"code": code})[0] == 200
