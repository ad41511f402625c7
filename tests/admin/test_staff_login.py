"""Staff sign in to the admin with a password and a second factor; idle sessions end (P12)."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent, SecurityEventKind, User
from staff import mfa
from tests.admin.conftest import PASSWORD, enrol_totp, login_mfa_passed, totp_code

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
VERIFY = "/admin/2fa/verify/"
ENROL = "/admin/2fa/enrol/"


def password_login(client: Client, username: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    assert response.status_code == 302, response.content[:500]


def test_first_login_requires_enrolment_before_any_admin_page(
    client: Client, support_agent: User
) -> None:
    password_login(client, "support")

    for path in (INDEX, "/admin/accounts/user/", "/admin/admin/logentry/", "/accounts/2fa/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(ENROL + "?next=")

    page = client.get(ENROL)
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("no-store")
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode())
    assert found is not None
    secret = found.group(1)

    wrong = client.post(ENROL, {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert b"Incorrect code" in wrong.content
    assert not Authenticator.objects.filter(user=support_agent).exists()

    done = client.post(ENROL, {"code": totp_code(secret), "next": "/admin/accounts/user/"})
    assert done.status_code == 200
    codes = re.findall(r"<li>(\d{8})</li>", done.content.decode())
    assert len(codes) == 10
    assert set(Authenticator.objects.filter(user=support_agent).values_list("type", flat=True)) == {
        "totp",
        "recovery_codes",
    }
    assert b'href="/admin/accounts/user/"' in done.content

    assert client.get(INDEX).status_code == 200


def test_enrolled_staff_must_enter_a_code_after_the_password(
    client: Client, moderator: User
) -> None:
    secret, _codes = enrol_totp(moderator)
    password_login(client, "mod")
    key_after_password = client.session.session_key

    response = client.get("/admin/chat/")
    assert response.status_code == 302
    assert response["Location"] == VERIFY + "?next=%2Fadmin%2Fchat%2F"
    assert client.get(ENROL)["Location"].startswith(VERIFY)

    bad = client.post(VERIFY, {"code": "12345x", "next": "/admin/chat/"})
    assert bad.status_code == 200
    assert b"Incorrect code" in bad.content
    event = SecurityEvent.objects.get(user=moderator, kind=SecurityEventKind.LOGIN_FAILED)
    assert event.detail == {"method": "staff_mfa"}

    good = client.post(VERIFY, {"code": totp_code(secret), "next": "/admin/"})
    assert good.status_code == 302
    assert good["Location"] == "/admin/"
    signed_in = SecurityEvent.objects.get(user=moderator, kind=SecurityEventKind.LOGIN_SUCCEEDED)
    assert signed_in.detail == {"method": "staff_mfa"}
    # A new session key after the second step: one seen before it is worth nothing.
    assert client.session.session_key != key_after_password
    assert client.session[mfa.SESSION_MFA_USER] == moderator.pk
    assert client.get(INDEX).status_code == 200
    # Verify page is a no-op once passed.
    assert client.get(VERIFY + "?next=/admin/")["Location"] == "/admin/"


def test_a_totp_code_works_only_once(client: Client, moderator: User) -> None:
    secret, _codes = enrol_totp(moderator)
    code = totp_code(secret)
    password_login(client, "mod")
    assert client.post(VERIFY, {"code": code})["Location"] == "/admin/"

    other = Client()
    password_login(other, "mod")
    replay = other.post(VERIFY, {"code": code})
    assert replay.status_code == 200
    assert b"Incorrect code" in replay.content


def test_recovery_code_replaces_the_app_once(client: Client, moderator: User) -> None:
    _secret, codes = enrol_totp(moderator)
    password_login(client, "mod")
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 302

    again = Client()
    password_login(again, "mod")
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 200
    assert again.post(VERIFY, {"code": codes[1]}).status_code == 302


def test_next_never_leaves_the_site(client: Client, moderator: User) -> None:
    secret, _codes = enrol_totp(moderator)
    password_login(client, "mod")
    response = client.post(VERIFY, {"code": totp_code(secret), "next": "https://evil.example/"})
    assert response["Location"] == "/admin/"


def test_wrong_passwords_are_rate_limited_and_logged(client: Client, moderator: User) -> None:
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "mod", "password": "nope"})
        assert response.status_code == 200
    assert (
        SecurityEvent.objects.filter(
            user=moderator, kind=SecurityEventKind.LOGIN_FAILED, detail={"method": "staff_password"}
        ).count()
        == 5
    )
    # Even the right password is refused while the limit holds.
    limited = client.post("/admin/login/", {"username": "MOD", "password": PASSWORD})
    assert limited.status_code == 429
    assert b"Too many failed sign-in attempts" in limited.content
    assert "_auth_user_id" not in client.session


def test_unknown_username_failures_are_logged_without_a_user(client: Client, db: None) -> None:
    client.post("/admin/login/", {"username": "ghost", "password": "nope"})
    event = SecurityEvent.objects.get(kind=SecurityEventKind.LOGIN_FAILED)
    assert event.user is None


def test_idle_session_ends_and_login_returns_to_the_page(client: Client, moderator: User) -> None:
    login_mfa_passed(client, moderator)
    assert client.get(INDEX).status_code == 200
    session = client.session
    assert 0 < session.get_expiry_age() <= 30 * 60

    session[mfa.SESSION_LAST_SEEN] = int(time.time()) - 30 * 60 - 5
    session.save()
    response = client.get("/admin/chat/?q=x")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/chat/%3Fq%3Dx"
    assert "_auth_user_id" not in client.session
    assert mfa.SESSION_MFA_USER not in client.session


def test_activity_keeps_the_session_alive(
    client: Client, moderator: User, settings: LazySettings
) -> None:
    settings.MEETNOW_STAFF_IDLE_TIMEOUT = 600
    login_mfa_passed(client, moderator)
    session = client.session
    session[mfa.SESSION_LAST_SEEN] = int(time.time()) - 590
    session.save()
    assert client.get(INDEX).status_code == 200
    assert time.time() - client.session[mfa.SESSION_LAST_SEEN] < 5
    assert client.session.get_expiry_age() == 600


def test_superusers_need_the_second_factor_too(client: Client, superuser: User) -> None:
    password_login(client, "root")
    assert client.get(INDEX)["Location"].startswith(ENROL)


def test_a_flag_of_another_user_does_not_count(client: Client, moderator: User) -> None:
    enrol_totp(moderator)
    client.force_login(moderator)
    session = client.session
    session[mfa.SESSION_MFA_USER] = moderator.pk + 1000
    session.save()
    assert client.get(INDEX)["Location"].startswith(VERIFY)


def test_logout_and_login_pages_stay_reachable(client: Client, moderator: User) -> None:
    enrol_totp(moderator)
    password_login(client, "mod")
    login_page = client.get(reverse("admin:login"))
    assert login_page.status_code == 302
    # Signed in with the password only: the login page hands over to the index,
    # whose guard asks for the second factor; it is not blocked itself.
    assert login_page["Location"] == INDEX
    assert client.get(INDEX)["Location"].startswith(VERIFY)
    assert client.post(reverse("admin:logout")).status_code == 200
    assert "_auth_user_id" not in client.session


def test_non_staff_sessions_are_untouched(client: Client, db: None) -> None:
    user = User.objects.create_user(nickname="app user")
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert mfa.SESSION_LAST_SEEN not in client.session


def test_mfa_can_be_switched_off_for_tests_only(
    client: Client, moderator: User, settings: LazySettings
) -> None:
    settings.MEETNOW_STAFF_MFA_REQUIRED = False
    client.force_login(moderator)
    assert client.get(INDEX).status_code == 200


def test_authenticator_secrets_are_encrypted_at_rest(client: Client, moderator: User) -> None:
    secret, _codes = enrol_totp(moderator)
    stored = {a.type: a.data for a in Authenticator.objects.filter(user=moderator)}
    assert stored["totp"]["secret"].startswith("gAAAA")
    assert secret not in str(stored)
    assert stored["recovery_codes"]["seed"].startswith("gAAAA")
    password_login(client, "mod")
    assert client.post(VERIFY, {"code": totp_code(secret)}).status_code == 302


def test_encryption_keys_can_be_rotated(moderator: User, settings: LazySettings) -> None:
    from cryptography.fernet import Fernet

    from staff.mfa_adapter import MFAAdapter

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.MEETNOW_MFA_ENCRYPTION_KEYS = [old]
    token = MFAAdapter().encrypt("JBSWY3DPEHPK3PXP")
    settings.MEETNOW_MFA_ENCRYPTION_KEYS = [new, old]
    assert MFAAdapter().decrypt(token) == "JBSWY3DPEHPK3PXP"
    settings.MEETNOW_MFA_ENCRYPTION_KEYS = [new]
    with pytest.raises(ValueError, match="can't be decrypted"):
        MFAAdapter().decrypt(token)
    assert MFAAdapter().decrypt("JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"  # legacy plaintext
