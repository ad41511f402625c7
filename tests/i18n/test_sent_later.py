"""What is sent without a request speaks the user's language (issue 17).

SMS and voice codes against the local fake gateways, a push against the FCM fake,
the export's guide and file names.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.files.storage import default_storage
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.models import SmsDelivery
from privacy.lifecycle import request_create
from privacy.models import RequestStatus
from tests.accounts.conftest import App
from tests.accounts.fakes import FakeServer, Reply, fake_server
from tests.chat.fakes import fake_fcm
from tests.factories.accounts import UserFactory
from tests.factories.chat import make_device
from tests.factories.privacy import run_export, user_with_history
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

PHONE = "+8613900139000"


@pytest.fixture
def twilio(settings: LazySettings) -> Iterator[FakeServer]:
    with fake_server() as server:
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_API_BASE = server.base_url
        settings.TWILIO_ACCOUNT_SID = "AC0123"
        settings.TWILIO_AUTH_TOKEN = "secret-token"
        settings.TWILIO_FROM_NUMBER = "+15005550006"
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.SMS_HTTP_TIMEOUT = 2
        yield server


@pytest.fixture
def gateway(settings: LazySettings) -> Iterator[FakeServer]:
    with fake_server() as server:
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP_URL = f"{server.base_url}/v1/sms"
        settings.SMS_HTTP_TOKEN = "gw-token"
        settings.SMS_HTTP_TIMEOUT = 2
        yield server


def test_login_code_by_sms_in_the_users_language(
    app: App, gateway: FakeServer, settings: LazySettings
) -> None:
    UserFactory.create(phone=PHONE, language="zh-hans")
    gateway.reply(Reply(200, {"id": "gw-1"}))
    # The phone asks in English; the account's language decides the text.
    status, _ = app.call("POST", "/auth/code/request", {"phone": PHONE})
    assert status == 401
    [request] = gateway.received
    body = request.json()
    code = body["params"]["code"]
    minutes = settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT // 60
    assert body["text"] == f"您的 MeetNow 验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"
    assert SmsDelivery.objects.get().language == "zh-hans"
    status, _ = app.call("POST", "/auth/code/confirm", {"code": code})
    assert status == 200


@pytest.mark.parametrize(
    ("timeout", "language", "expected"),
    [
        (60, "en", "Your MeetNow code is {code}. It expires in 1 minute. Never share it."),
        (600, "en", "Your MeetNow code is {code}. It expires in 10 minutes. Never share it."),
        (60, "zh-hans", "您的 MeetNow 验证码是 {code}，1 分钟内有效。请勿告诉他人。"),
    ],
)
def test_the_codes_validity_is_a_number_in_the_users_language(
    app: App,
    gateway: FakeServer,
    settings: LazySettings,
    timeout: int,
    language: str,
    expected: str,
) -> None:
    """The one number in an SMS text: grammatical in English ("1 minute")."""
    settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT = timeout
    UserFactory.create(phone=PHONE, language=language)
    gateway.reply(Reply(200, {"id": "gw-1"}))
    app.call("POST", "/auth/code/request", {"phone": PHONE})
    body = gateway.received[0].json()
    assert body["text"] == expected.format(code=body["params"]["code"])


def test_login_code_by_voice_call_in_chinese(app: App, twilio: FakeServer) -> None:
    UserFactory.create(phone=PHONE, language="zh-hans")
    twilio.reply(Reply(201, {"sid": "CA1"}))
    status, _ = app.call(
        "POST", "/auth/code/request", {"phone": PHONE}, headers={"X-OTP-Channel": "voice"}
    )
    assert status == 401
    [request] = twilio.received
    assert request.path.endswith("/Calls.json")
    twiml = request.form()["Twiml"]
    assert twiml.startswith('<Response><Say language="zh-CN">您的 MeetNow 验证码是 ')
    spoken = twiml.split("验证码是 ")[1].split("。")[0]
    digits = spoken.split("，")
    assert len(digits) == 6
    assert all(d.isdigit() for d in digits)
    assert twiml.endswith(f"再说一遍：{spoken}。</Say></Response>")


def test_an_english_account_hears_english(app: App, twilio: FakeServer) -> None:
    UserFactory.create(phone=PHONE, language="en")
    twilio.reply(Reply(201, {"sid": "CA1"}))
    app.call(
        "POST",
        "/auth/code/request",
        {"phone": PHONE},
        headers={"X-OTP-Channel": "voice", "Accept-Language": "zh-CN"},
    )
    twiml = twilio.received[0].form()["Twiml"]
    assert twiml.startswith('<Response><Say language="en-US">Your MeetNow code is ')


def test_a_number_without_account_is_told_in_the_requests_language(
    app: App, gateway: FakeServer
) -> None:
    gateway.reply(Reply(200, {"id": "gw-1"}))
    app.call(
        "POST",
        "/auth/code/request",
        {"phone": "+8613700137000"},
        headers={"Accept-Language": "zh-CN"},
    )
    [request] = gateway.received
    assert request.json()["text"] == "MeetNow：有人尝试用此号码登录，但该号码没有注册账号。"


def test_push_texts_in_each_owners_language(
    settings: LazySettings,
    tmp_path: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    celery_eager: None,
) -> None:
    chinese = UserFactory.create(language="zh-hans")
    english = UserFactory.create(language="en")
    old_zh = make_device(chinese, platform="android")
    old_en = make_device(english, platform="android")
    with fake_fcm(tmp_path) as (base, credentials, recorded):
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_BASE_URL = base
        settings.FCM_CREDENTIALS_FILE = str(credentials)
        for user in (chinese, english):
            with django_capture_on_commit_callbacks(execute=True):
                response = api_client_for(user).post(
                    "/api/v1/devices",
                    {
                        "device_id": f"new-{user.pk}",
                        "platform": "android",
                        "push_token": f"t-{user.pk}",
                    },
                    format="json",
                    HTTP_ACCEPT_LANGUAGE="en",
                )
            assert response.status_code in (200, 201)
    notices = {r["body"]["message"]["token"]: r["body"]["message"] for r in recorded.requests}
    assert notices[old_zh.push_token]["notification"] == {
        "title": "新设备登录",
        "body": "你的账号刚刚在一部新手机上登录。如果不是你本人，请在“设置”中结束该会话。",
    }
    assert notices[old_en.push_token]["notification"]["title"] == "New sign-in"
    assert notices[old_zh.push_token]["data"]["type"] == "new_device"  # codes stay


def test_export_guide_and_names_in_the_users_language() -> None:
    world = user_with_history(messages=2, files=1)
    me = world["me"]
    me.language = "zh-hans"
    me.save(update_fields=["language"])
    privacy_request = request_create(user=me, kind="access", identity_confirmed=True)
    run_export(privacy_request)
    privacy_request.refresh_from_db()
    assert privacy_request.status == RequestStatus.COMPLETE
    with default_storage.open(privacy_request.archive_key, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    names = archive.namelist()
    assert "说明.txt" in names
    assert "README.txt" not in names
    readme = archive.read("说明.txt").decode()
    assert readme.startswith("MeetNow：你的数据副本\n生成于 ")
    assert "（Asia/Shanghai）" in readme
    assert "年" in readme.splitlines()[1]  # a Chinese date
    assert "他人的消息仅包含你在应用中能看到的部分" in readme
    # Each section's file under its Chinese name, listed in the guide.
    assert {"消息.json", "个人资料.json", "文件.json"} <= set(names)
    assert "messages.json" not in names
    assert "- 消息.json: " in readme
    messages = json.loads(archive.read("消息.json"))
    assert {m.text for m in world["mine"]} <= {m["text"] for m in messages}


def test_a_time_in_a_push_is_in_each_owners_language_and_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pushes are rendered later in a worker (UTC): a time in one reads in the owner's
    zone, as display() promises for everything sent later."""
    import datetime as dt

    from accounts.selectors import push_devices_for_users
    from chat import push
    from meetnow.lib.i18n import display

    chinese = UserFactory.create(language="zh-hans")  # no zone of its own: Asia/Shanghai
    berlin = UserFactory.create(language="en", time_zone="Europe/Berlin")
    make_device(chinese, token="zh-token")
    make_device(berlin, token="de-token")
    sent: dict[int, str] = {}

    class Recorder:
        def send(self, device: object, note: push.PushNotification) -> bool:
            sent[device.user_id] = str(note.body)  # type: ignore[attr-defined]
            return True

    monkeypatch.setattr(push, "push_backend", lambda: Recorder())
    when = dt.datetime(2026, 1, 2, 20, 30, tzinfo=dt.UTC)
    push.push_send(
        push_devices_for_users(user_ids=[chinese.pk, berlin.pk]),
        lambda device: push.PushNotification(
            kind="notice", conversation="", badge=0, body=display(when)
        ),
    )
    assert sent == {chinese.pk: "2026年1月3日 04:30", berlin.pk: "Jan. 2, 2026, 9:30 p.m."}
