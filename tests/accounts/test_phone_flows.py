"""Phone sign-up and login by code through allauth's headless app API (P1, P2, P14)."""

from __future__ import annotations

import pytest

from accounts.models import SmsDelivery, User
from privacy.models import Consent

pytestmark = pytest.mark.django_db


def test_signup_with_national_number_then_verify_code(app, outbox, signup_data):
    status, body = app.call("POST", "/auth/signup", {"phone": "138 0013 8000", **signup_data})
    assert status == 401, body
    pending = [f["id"] for f in body["data"]["flows"] if f.get("is_pending")]
    assert pending == ["verify_phone"]
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == "+8613800138000"
    assert message.channel == "sms"
    assert len(message.code) == 6 and message.code.isdigit()

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
