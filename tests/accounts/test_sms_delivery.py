"""Code delivery by the worker through each backend (P2), against local fake providers."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from django.db import transaction
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.models import SmsDelivery
from accounts.services import sms_send
from tests.accounts.fakes import FakeServer, Reply, fake_server

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"


@pytest.fixture(autouse=True)
def _eager_retries(celery_eager: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SMS task runs in-process, and eager Celery runs its retries in turn, as a
    worker would.

    With ``task_eager_propagates`` an eager task raises ``Retry`` to the caller
    instead of running the retry; a worker never propagates.
    """
    from meetnow.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)


@pytest.fixture
def twilio(settings: LazySettings) -> Iterator[FakeServer]:
    with fake_server() as server:
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_API_BASE = server.base_url
        settings.TWILIO_ACCOUNT_SID = "AC0123"
        settings.TWILIO_AUTH_TOKEN = "secret-token"
        settings.TWILIO_FROM_NUMBER = "+15005550006"
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.SMS_HTTP_TIMEOUT = 0.5
        yield server


@pytest.fixture
def gateway(settings: LazySettings) -> Iterator[FakeServer]:
    with fake_server() as server:
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP_URL = f"{server.base_url}/v1/sms"
        settings.SMS_HTTP_TOKEN = "gw-token"
        settings.SMS_HTTP_TIMEOUT = 0.5
        yield server


def _send(
    capture: DjangoCaptureOnCommitCallbacks, *, channel: str = "sms", code: str = "482913"
) -> SmsDelivery:
    with capture(execute=True), transaction.atomic():
        delivery = sms_send(phone=PHONE, code=code, purpose="login", channel=channel)
    delivery.refresh_from_db()
    return delivery


def test_twilio_sms(
    twilio: FakeServer, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    twilio.reply(Reply(201, {"sid": "SM123"}))
    delivery = _send(django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts, delivery.provider_id) == ("sent", 1, "SM123")
    [request] = twilio.received
    assert request.method == "POST"
    assert request.path == "/2010-04-01/Accounts/AC0123/Messages.json"
    expected = "Basic " + base64.b64encode(b"AC0123:secret-token").decode()
    assert request.headers["authorization"] == expected
    form = request.form()
    assert form["To"] == PHONE
    assert form["From"] == "+15005550006"
    assert "482913" in form["Body"]


def test_twilio_voice_call_reads_the_code(
    twilio: FakeServer, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    twilio.reply(Reply(201, {"sid": "CA9"}))
    delivery = _send(django_capture_on_commit_callbacks, channel="voice")
    assert delivery.status == "sent"
    [request] = twilio.received
    assert request.path.endswith("/Calls.json")
    twiml = request.form()["Twiml"]
    assert twiml.startswith("<Response><Say")
    assert "4, 8, 2, 9, 1, 3" in twiml


def test_retries_with_backoff_on_5xx_and_timeouts(
    twilio: FakeServer, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    twilio.reply(
        Reply(503, {"message": "busy"}),
        Reply(201, {"sid": "late"}, delay=1.0),  # slower than SMS_HTTP_TIMEOUT
        Reply(500, {}),
        Reply(201, {"sid": "SM-finally"}),
    )
    delivery = _send(django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts, delivery.provider_id) == ("sent", 4, "SM-finally")
    assert len(twilio.received) == 4


def test_no_retry_on_4xx(
    twilio: FakeServer, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    twilio.reply(Reply(400, {"code": 21211, "message": "invalid To"}))
    delivery = _send(django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert len(twilio.received) == 1


def test_gives_up_after_the_retry_budget(
    twilio: FakeServer,
    settings: LazySettings,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    settings.SMS_MAX_RETRIES = 2
    twilio.handler = lambda _: Reply(502, {})
    delivery = _send(django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(twilio.received) == 3


def test_http_json_gateway(
    gateway: FakeServer, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    gateway.reply(Reply(200, {"id": "gw-77"}))
    delivery = _send(django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.provider_id) == ("sent", "gw-77")
    [request] = gateway.received
    assert request.path == "/v1/sms"
    assert request.headers["authorization"] == "Bearer gw-token"
    body = request.json()
    assert body["to"] == PHONE
    assert body["channel"] == "sms"
    assert body["params"] == {"code": "482913"}


def test_http_json_gateway_errors(
    gateway: FakeServer, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    gateway.reply(Reply(500, {}), Reply(200, {"id": "gw-2"}))
    assert _send(django_capture_on_commit_callbacks).status == "sent"
    gateway.reply(Reply(403, {"error": "bad sign"}))
    assert _send(django_capture_on_commit_callbacks).status == "failed"


def test_delivery_record_never_holds_the_code_or_number(
    twilio: FakeServer, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    twilio.reply(Reply(201, {"sid": "SM1"}))
    delivery = _send(django_capture_on_commit_callbacks)
    row = SmsDelivery.objects.filter(pk=delivery.pk).values().get()
    flat = " ".join(str(v) for v in row.values())
    assert "482913" not in flat
    assert "13800138000" not in flat
    assert row["masked_phone"] == "+86 138****8000"


def test_nothing_is_sent_when_the_transaction_rolls_back(
    twilio: FakeServer, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    def failing_request() -> None:
        with transaction.atomic():
            sms_send(phone=PHONE, code="123456", purpose="login")
            raise RuntimeError("request failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        failing_request()
    assert callbacks == []
    assert twilio.received == []
    assert SmsDelivery.objects.count() == 0


def test_console_backend_prints_for_development(
    settings: LazySettings,
    capfd: pytest.CaptureFixture[str],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    settings.SMS_BACKEND = "console"
    delivery = _send(django_capture_on_commit_callbacks)
    assert delivery.status == "sent"
    out = capfd.readouterr().out  # the terminal itself, not a log record
    assert "482913" in out
    assert PHONE not in out  # the terminal shows the masked number
