"""The API speaks the request's language; codes never change with it (issue 17)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.sms.backends import OutgoingMessage
from privacy.models import Consent, PolicyDocument, Processor
from tests.accounts.conftest import App
from tests.factories.accounts import UserFactory
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def _error(response: Any) -> tuple[str, str]:
    [error] = response.json()["errors"]
    return error["code"], error["message"]


@pytest.mark.parametrize("header", ["zh-Hans", "zh-CN", "zh", "zh-hans-CN,en;q=0.5"])
def test_an_error_in_chinese_has_the_same_code_as_in_english(header: str) -> None:
    client = api_client_for(UserFactory.create())
    url = f"/api/v1/users/{uuid.uuid4()}"

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE=header)

    assert english.status_code == chinese.status_code == 404
    assert _error(english) == ("not_found", "No such user.")
    assert _error(chinese) == ("not_found", "用户不存在。")
    assert chinese["Content-Language"] == "zh-hans"
    assert "Accept-Language" in chinese["Vary"]


@pytest.mark.parametrize("header", [None, "en-US", "fr-FR,de;q=0.8"])
def test_any_other_language_gets_english(header: str | None) -> None:
    client = api_client_for(UserFactory.create())
    url = f"/api/v1/users/{uuid.uuid4()}"
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=header) if header else client.get(url)
    assert _error(response) == ("not_found", "No such user.")
    assert response["Content-Language"] == "en"


def test_framework_errors_are_translated_too() -> None:
    # DRF's own messages (validation, authentication) come with their own catalogues.
    response = api_client_for(UserFactory.create()).patch(
        "/api/v1/me", {"push_enabled": "maybe"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )
    assert response.status_code == 400
    code, message = _error(response)
    assert code == "invalid"
    assert message == "必须是有效的布尔值。"


def test_me_language_and_time_zone_are_settings_of_the_account() -> None:
    user = UserFactory.create(phone="+8613800138000")
    client = api_client_for(user)
    me = client.get("/api/v1/me").json()
    assert (me["language"], me["time_zone"]) == ("en", "UTC")
    assert me["phone"] == "+8613800138000"
    assert me["phone_display"] == "138 0013 8000"  # national format in the user's region

    me = client.patch("/api/v1/me", {"language": "zh-hans"}, format="json").json()
    assert (me["language"], me["time_zone"]) == ("zh-hans", "Asia/Shanghai")
    me = client.patch("/api/v1/me", {"time_zone": "Europe/Berlin"}, format="json").json()
    assert me["time_zone"] == "Europe/Berlin"
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("zh-hans", "Europe/Berlin")

    bad = client.patch(
        "/api/v1/me", {"time_zone": "Mars/Olympus"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )
    assert bad.status_code == 400
    assert _error(bad) == ("invalid_time_zone", "未知时区。")
    assert bad.json()["errors"][0]["param"] == "time_zone"
    bad = client.patch("/api/v1/me", {"language": "fr"}, format="json")
    assert bad.json()["errors"][0]["code"] == "invalid_choice"


def test_a_foreign_number_is_shown_in_international_format() -> None:
    user = UserFactory.create(phone="+14155550123")
    me = api_client_for(user).get("/api/v1/me").json()
    assert me["phone_display"] == "+1 415-555-0123"


def test_sign_up_takes_the_language_of_the_request(
    app: App, outbox: list[OutgoingMessage], signup_data: dict[str, str]
) -> None:
    app.headers = {"Accept-Language": "zh-CN"}
    status, body = app.call("POST", "/auth/signup", {"phone": "13800138000", **signup_data})
    assert status == 401, body
    # The sign-up code itself is already in Chinese.
    assert outbox[-1].text.startswith("您的 MeetNow 验证码是 ")
    assert outbox[-1].language == "zh-hans"
    status, body = app.call("POST", "/auth/phone/verify", {"code": outbox[-1].code})
    assert status == 200, body
    user = User.objects.get()
    assert user.language == "zh-hans"
    # Consent records which language's text the user was shown.
    assert set(Consent.objects.filter(user=user).values_list("language", flat=True)) == {"zh-hans"}


def test_sign_up_in_english_records_english(
    app: App, outbox: list[OutgoingMessage], signup_data: dict[str, str]
) -> None:
    app.call("POST", "/auth/signup", {"phone": "13800138001", **signup_data})
    app.call("POST", "/auth/phone/verify", {"code": outbox[-1].code})
    user = User.objects.get()
    assert user.language == "en"
    assert set(Consent.objects.filter(user=user).values_list("language", flat=True)) == {"en"}


def test_policy_documents_in_the_language_of_the_request_saying_which() -> None:
    client = api_client_for(UserFactory.create())
    for url in ("/api/v1/policies", "/api/v1/privacy/documents/current"):
        english = client.get(url).json()
        chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
        english = english if isinstance(english, list) else english["documents"]
        chinese = chinese if isinstance(chinese, list) else chinese["documents"]
        by_kind = {d["kind"]: d for d in chinese}
        assert {d["language"] for d in english} == {"en"}
        assert {d["language"] for d in chinese} == {"zh-hans"}
        assert by_kind["privacy_policy"]["title"] == "MeetNow 隐私政策"
        assert "隐私政策" in by_kind["privacy_policy"]["body"]
        assert [d["version"] for d in english] == [d["version"] for d in chinese]


def test_a_version_without_chinese_text_is_served_in_english_and_says_so() -> None:
    PolicyDocument.objects.create(
        kind="privacy_policy",
        version="1.1-en",
        title="Policy",
        body="English only.",
        published_at=timezone.now(),
    )
    documents = (
        api_client_for(UserFactory.create())
        .get("/api/v1/policies", HTTP_ACCEPT_LANGUAGE="zh-Hans")
        .json()
    )
    policy = next(d for d in documents if d["kind"] == "privacy_policy")
    assert (policy["version"], policy["language"], policy["body"]) == (
        "1.1-en",
        "en",
        "English only.",
    )


def test_publishing_needs_both_texts() -> None:
    from meetnow.lib.errors import ApplicationError
    from privacy.services import document_publish

    draft = PolicyDocument.objects.create(
        kind="user_agreement", version="9", title="Agreement", body="Text"
    )
    with pytest.raises(ApplicationError) as raised:
        document_publish(document=draft)
    assert raised.value.code == "translation_missing"
    draft.body_zh_hans = "正文"
    assert document_publish(document=draft).published_at is not None


def _processors(settings: Any, language: str) -> list[dict[str, Any]]:
    settings.SMS_BACKEND = "twilio"
    settings.PUSH_BACKEND = "native"
    settings.MEETNOW_TURN_URLS = ["turn:turn.example.com:3478"]
    settings.IDENTITY_PROVIDER = "tencent"
    response = APIClient().get("/api/v1/privacy/processors", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return list(response.json()["processors"])


def test_the_processor_list_in_chinese_for_a_chinese_request(settings: Any) -> None:
    """P9 disclosure: names, purposes and data categories in the reader's language."""
    english = _processors(settings, "en")
    chinese = _processors(settings, "zh-CN")
    assert len(chinese) == len(english) >= 5
    assert {p["language"] for p in english} == {"en"}
    assert {p["language"] for p in chinese} == {"zh-hans"}
    by_name = {p["name"]: p for p in chinese}
    assert by_name["Apple 推送通知服务"]["purpose"] == "iOS 上的推送通知"
    assert by_name["Twilio"]["data"] == "你的手机号码和验证码。"
    assert "身份证" in by_name["实名认证服务商（腾讯云慧眼 FaceID）"]["data"]
    assert [p["country"] for p in chinese] == [p["country"] for p in english]


def test_a_processor_without_chinese_text_is_served_in_english_and_says_so(
    settings: Any,
) -> None:
    Processor.objects.create(
        name="Acme Analytics", purpose="Crash reports", data_categories="Device model."
    )
    acme = next(p for p in _processors(settings, "zh-Hans") if p["name"] == "Acme Analytics")
    assert (acme["language"], acme["purpose"]) == ("en", "Crash reports")


def test_the_admin_asks_for_the_chinese_processor_text() -> None:
    from django.contrib.admin.sites import site

    form_class = site._registry[Processor].get_form(None)  # type: ignore[arg-type]
    form = form_class(
        data={"name": "Acme", "purpose": "Crash reports", "data_categories": "Device model."}
    )
    assert not form.is_valid()
    assert {"name_zh_hans", "purpose_zh_hans", "data_categories_zh_hans"} <= set(form.errors)


def test_an_unknown_field_is_refused_in_the_requests_language() -> None:
    client = api_client_for(UserFactory.create())
    english = client.post("/api/v1/conversations", {"titel": "x"}, format="json")
    chinese = client.post(
        "/api/v1/conversations", {"titel": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )
    assert english.status_code == chinese.status_code == 400
    assert _error(english) == ("unknown_field", "Unknown field.")
    assert _error(chinese) == ("unknown_field", "未知字段。")


def test_every_export_file_is_described_in_chinese() -> None:
    """The export's guide lists each file with its description (issue 17)."""
    from django.utils import translation

    from privacy.registry import get_registry

    sections = get_registry().export_sections
    assert len(sections) > 20
    with translation.override("zh-hans"):
        untranslated = [
            s.filename
            for s in sections
            if not any("\u4e00" <= ch <= "\u9fff" for ch in str(s.description))
        ]
    assert untranslated == []
