"""Social login from the native app (P3): Google id_token and WeChat's SDK code, faked locally."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import LazySettings

from accounts.models import User
from accounts.sms import backends
from privacy.models import Consent
from tests.accounts.conftest import App
from tests.accounts.fakes import FakeServer, Received, Reply, fake_server

pytestmark = pytest.mark.django_db

GOOGLE_CLIENT_ID = "1234-app.apps.googleusercontent.com"
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_SECRET = "wechat-app-secret"


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["code"] for e in body.get("errors", [])]


def _pending(body: dict[str, Any]) -> list[str]:
    return [f["id"] for f in body.get("data", {}).get("flows", []) if f.get("is_pending")]


# --- Google -------------------------------------------------------------------------


class GoogleIssuer:
    """Signs id_tokens like Google does; its certificates are served on 127.0.0.1."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )
        self.kid = "kid-1"
        self.certs = {self.kid: cert.public_bytes(serialization.Encoding.PEM).decode()}

    def id_token(
        self, *, sub: str = "1092837465", aud: str = GOOGLE_CLIENT_ID, **claims: Any
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": "https://accounts.google.com",
            "aud": aud,
            "sub": sub,
            "iat": now,
            "exp": now + 600,
            "jti": uuid.uuid4().hex,
            "email": "someone@example.com",
            "email_verified": True,
            "given_name": "Ada",
            "name": "Ada Lovelace",
            "picture": "https://example.com/ada.png",
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return jwt.encode(payload, pem, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
def google(settings: LazySettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleIssuer]:
    from allauth.socialaccount.providers.google import views

    issuer = GoogleIssuer()
    with fake_server(lambda r: Reply(200, issuer.certs) if r.path == "/certs" else Reply(404)) as s:
        settings.SOCIALACCOUNT_PROVIDERS = {
            **settings.SOCIALACCOUNT_PROVIDERS,
            "google": {"APPS": [{"client_id": GOOGLE_CLIENT_ID, "secret": "", "key": ""}]},
        }
        # allauth reads the certificate URL once at import; point it at the fake.
        monkeypatch.setattr(views, "CERTS_URL", f"{s.base_url}/certs")
        issuer.server = s  # type: ignore[attr-defined]
        yield issuer


def _google_login(app: App, token: str, process: str = "login") -> tuple[int, Any]:
    return app.call(
        "POST",
        "/auth/provider/token",
        {
            "provider": "google",
            "process": process,
            "token": {"client_id": GOOGLE_CLIENT_ID, "id_token": token},
        },
    )


def test_google_signup_needs_age_and_consent_but_no_phone(
    app: App, google: GoogleIssuer, signup_data: dict[str, str]
) -> None:
    status, body = _google_login(app, google.id_token())
    assert status == 401, body
    assert _pending(body) == ["provider_signup"]
    assert User.objects.count() == 0

    status, body = app.call("POST", "/auth/provider/signup", signup_data)
    assert status == 200, body
    user = User.objects.get()
    assert user.phone is None
    assert user.nickname == "Ada"
    assert str(user.date_of_birth) == signup_data["date_of_birth"]
    assert Consent.objects.filter(user=user).count() == 2
    # Only public profile data is kept (P3): no e-mail address anywhere.
    assert EmailAddress.objects.count() == 0
    account = SocialAccount.objects.get()
    assert account.uid == "1092837465"
    assert "email" not in account.extra_data
    assert app.call("GET", "/api/v1/me")[0] == 200

    # Next time the same Google account logs straight in.
    again = type(app)(app.capture)
    status, body = _google_login(again, google.id_token())
    assert status == 200, body
    assert again.call("GET", "/api/v1/me")[1]["id"] == str(user.uuid)


def test_google_signup_without_consent_stores_nothing(
    app: App, google: GoogleIssuer, signup_data: dict[str, str]
) -> None:
    _google_login(app, google.id_token())
    status, body = app.call(
        "POST", "/auth/provider/signup", {**signup_data, "privacy_policy_version": "0"}
    )
    assert status == 400
    assert "consent_required" in _codes(body)
    _google_login(app, google.id_token())  # the refusal dropped the provider's data
    status, body = app.call(
        "POST", "/auth/provider/signup", {**signup_data, "date_of_birth": "2014-02-02"}
    )
    assert status == 400
    assert "underage" in _codes(body)
    assert User.objects.count() == 0
    assert SocialAccount.objects.count() == 0


def test_google_token_checks(app: App, google: GoogleIssuer) -> None:
    other = GoogleIssuer()  # signed with a key Google never published
    status, body = _google_login(app, other.id_token())
    assert status == 400
    assert "invalid_token" in _codes(body)
    status, body = _google_login(app, google.id_token(aud="someone-else"))
    assert status == 400
    status, body = _google_login(app, google.id_token(exp=int(time.time()) - 10))
    assert status == 400
    status, body = _google_login(app, "not-a-jwt")
    assert status == 400
    assert User.objects.count() == 0


# --- WeChat -------------------------------------------------------------------------


def wechat_api(*, unionid: str | None = "o6_union_42") -> Callable[[Received], Reply]:
    def handle(request: Received) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        if request.path == "/sns/oauth2/access_token":
            if q.get("appid") != WECHAT_APP_ID or q.get("secret") != WECHAT_SECRET:
                return Reply(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
            if q.get("code") != "sdk-code-ok" or q.get("grant_type") != "authorization_code":
                return Reply(200, {"errcode": 40029, "errmsg": "invalid code"})
            grant = {"access_token": "AT-1", "expires_in": 7200, "openid": "openid-in-app"}
            if unionid:
                grant["unionid"] = unionid
            return Reply(200, grant)
        if request.path == "/sns/userinfo":
            if q.get("access_token") != "AT-1" or q.get("openid") != "openid-in-app":
                return Reply(200, {"errcode": 40001, "errmsg": "invalid credential"})
            info = {
                "openid": "openid-in-app",
                "nickname": "小明",
                "sex": 1,
                "province": "Guangdong",
                "city": "Shenzhen",
                "country": "CN",
                "headimgurl": "https://thirdwx.qlogo.cn/mmopen/abc/132",
                "privilege": [],
            }
            if unionid:
                info["unionid"] = unionid
            return Reply(200, info)
        return Reply(404, {"errcode": -1})

    return handle


@pytest.fixture
def wechat(settings: LazySettings) -> Iterator[FakeServer]:
    with fake_server(wechat_api()) as server:
        settings.SOCIALACCOUNT_PROVIDERS = {
            **settings.SOCIALACCOUNT_PROVIDERS,
            "wechat": {
                "APPS": [{"client_id": WECHAT_APP_ID, "secret": WECHAT_SECRET, "key": ""}],
                "API_BASE": server.base_url,
                "TIMEOUT": 2.0,
            },
        }
        yield server


def _wechat_login(app: App, code: str, process: str = "login") -> tuple[int, Any]:
    return app.call(
        "POST",
        "/auth/provider/token",
        {
            "provider": "wechat",
            "process": process,
            "token": {"client_id": WECHAT_APP_ID, "access_token": code},
        },
    )


def test_wechat_signup_uses_unionid_and_public_profile(
    app: App, wechat: FakeServer, signup_data: dict[str, str]
) -> None:
    status, body = _wechat_login(app, "sdk-code-ok")
    assert status == 401, body
    assert _pending(body) == ["provider_signup"]
    status, body = app.call("POST", "/auth/provider/signup", signup_data)
    assert status == 200, body

    account = SocialAccount.objects.get(provider="wechat")
    assert account.uid == "o6_union_42"
    assert set(account.extra_data) <= {"openid", "unionid", "nickname", "headimgurl", "sex"}
    user = account.user
    assert (user.nickname, user.gender) == ("小明", "male")
    assert [r.path for r in wechat.received] == ["/sns/oauth2/access_token", "/sns/userinfo"]


def test_wechat_without_unionid_falls_back_to_openid(
    settings: LazySettings, app: App, signup_data: dict[str, str]
) -> None:
    with fake_server(wechat_api(unionid=None)) as server:
        settings.SOCIALACCOUNT_PROVIDERS = {
            **settings.SOCIALACCOUNT_PROVIDERS,
            "wechat": {
                "APPS": [{"client_id": WECHAT_APP_ID, "secret": WECHAT_SECRET, "key": ""}],
                "API_BASE": server.base_url,
            },
        }
        _wechat_login(app, "sdk-code-ok")
        status, _ = app.call("POST", "/auth/provider/signup", signup_data)
    assert status == 200
    assert SocialAccount.objects.get().uid == "openid-in-app"


def test_wechat_bad_code_and_outage_are_clear_400s(app: App, wechat: FakeServer) -> None:
    status, body = _wechat_login(app, "expired-code")
    assert status == 400
    assert "invalid_token" in _codes(body)
    wechat.reply(Reply(502, {}))
    status, body = _wechat_login(app, "sdk-code-ok")
    assert status == 400
    assert "provider_unavailable" in _codes(body)
    status, body = app.call(
        "POST",
        "/auth/provider/token",
        {"provider": "wechat", "process": "login", "token": {"client_id": WECHAT_APP_ID}},
    )
    assert status == 400
    assert User.objects.count() == 0


def test_link_and_unlink_providers_but_never_the_last_login_method(
    app: App,
    app_factory: Callable[[], App],
    outbox: list[backends.OutgoingMessage],
    wechat: FakeServer,
    signup_data: dict[str, str],
    celery_eager: None,
) -> None:
    from tests.factories.accounts import UserFactory

    # A phone user links WeChat from settings, then unlinks it: the phone remains.
    phone_user = UserFactory.create(phone="+8613700137000")
    app.call("POST", "/auth/code/request", {"phone": "+8613700137000"})
    app.call("POST", "/auth/code/confirm", {"code": outbox[-1].code})
    status, body = _wechat_login(app, "sdk-code-ok", process="connect")
    assert status == 200, body
    assert SocialAccount.objects.get().user == phone_user
    status, body = app.call("GET", "/api/v1/social-accounts")
    assert [a["provider"] for a in body] == ["wechat"]
    status, body = app.call("DELETE", f"/api/v1/social-accounts/{body[0]['id']}")
    assert status == 204, body
    assert SocialAccount.objects.count() == 0

    # A WeChat-only user can't remove WeChat: it is their only way in.
    social = app_factory()
    _wechat_login(social, "sdk-code-ok")
    social.call("POST", "/auth/provider/signup", signup_data)
    [linked] = social.call("GET", "/api/v1/social-accounts")[1]
    status, body = social.call("DELETE", f"/api/v1/social-accounts/{linked['id']}")
    assert status == 400
    assert _codes(body) == ["last_login_method"]
    # Nor through allauth's own endpoint.
    status, body = social.call(
        "DELETE", "/account/providers", {"provider": "wechat", "account": "o6_union_42"}
    )
    assert status == 400
    assert SocialAccount.objects.count() == 1
    # Someone else's linked account is simply not found.
    assert app.call("DELETE", f"/api/v1/social-accounts/{linked['id']}")[0] == 404


def test_config_lists_the_token_providers(
    app: App, google: GoogleIssuer, wechat: FakeServer
) -> None:
    status, body = app.call("GET", "/config")
    assert status == 200
    providers = {p["id"]: p for p in body["data"]["socialaccount"]["providers"]}
    assert {"google", "wechat"} <= set(providers)
    assert "provider_token" in providers["wechat"]["flows"]
    assert "provider_redirect" not in providers["wechat"]["flows"]
    assert body["data"]["account"]["login_methods"] == ["phone"]


APPLE_CLIENT_ID = "com.meetnow.app"


def test_apple_id_token_signup(
    app: App, settings: LazySettings, monkeypatch: pytest.MonkeyPatch, signup_data: dict[str, str]
) -> None:
    import json

    from allauth.socialaccount.providers.apple.views import AppleOAuth2Adapter

    issuer = GoogleIssuer()  # any RSA issuer; Apple publishes its keys as a JWK set
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key()))
    keys = {"keys": [{**jwk, "kid": issuer.kid, "alg": "RS256", "use": "sig"}]}
    with fake_server(lambda r: Reply(200, keys)) as server:
        settings.SOCIALACCOUNT_PROVIDERS = {
            **settings.SOCIALACCOUNT_PROVIDERS,
            "apple": {"APPS": [{"client_id": APPLE_CLIENT_ID, "secret": "", "key": ""}]},
        }
        monkeypatch.setattr(AppleOAuth2Adapter, "public_key_url", f"{server.base_url}/keys")
        token = issuer.id_token(
            sub="001234.apple-user",
            aud=APPLE_CLIENT_ID,
            iss="https://appleid.apple.com",
            name=None,  # Apple's id_token carries no name claims
            given_name=None,
            picture=None,
        )
        status, body = app.call(
            "POST",
            "/auth/provider/token",
            {
                "provider": "apple",
                "process": "login",
                "token": {"client_id": APPLE_CLIENT_ID, "id_token": token},
            },
        )
        assert status == 401, body
        assert _pending(body) == ["provider_signup"]
        status, body = app.call("POST", "/auth/provider/signup", signup_data)
    assert status == 200, body
    account = SocialAccount.objects.get(provider="apple")
    assert account.uid == "001234.apple-user"
    assert set(account.extra_data) <= {"sub"}
    assert EmailAddress.objects.count() == 0


def _session_text(token: str) -> str:
    """What the session store holds for a token: the row (decoded) and the cache entry."""
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.contrib.sessions.models import Session
    from django.core.cache import caches

    rows = Session.objects.filter(session_key=token)
    cached = caches["default"].get(KEY_PREFIX + token)
    return " ".join(f"{r.session_data} {r.get_decoded()!r}" for r in rows) + f" {cached!r}"


PROVIDER_DATA = ("1092837465", "Ada", "https://example.com/ada.png")


def test_a_refused_social_sign_up_leaves_nothing_of_the_provider_in_the_session(
    app: App, google: GoogleIssuer, signup_data: dict[str, str]
) -> None:
    """P1/P3: the provider's uid, nickname and avatar URL wait in the session only while
    the sign-up is pending; a refusal (under age, no consent) removes them at once."""
    status, _ = _google_login(app, google.id_token())
    assert status == 401
    assert app.token is not None
    pending = _session_text(app.token)
    assert all(value in pending for value in PROVIDER_DATA)  # allauth's pending login
    status, body = app.call(
        "POST", "/auth/provider/signup", {**signup_data, "date_of_birth": "2014-02-02"}
    )
    assert status == 400
    assert "underage" in _codes(body)
    left = _session_text(app.token)
    assert [value for value in PROVIDER_DATA if value in left] == []
    status, _ = app.call("POST", "/auth/provider/signup", signup_data)
    assert status == 409  # nothing pending any more: start again with the provider
    assert User.objects.count() == 0


def test_an_abandoned_social_sign_up_expires_with_its_session(
    app: App, google: GoogleIssuer, signup_data: dict[str, str], settings: LazySettings
) -> None:
    """P1/P3: a pending social sign-up keeps the provider's data at most
    MEETNOW_SOCIAL_SIGNUP_TTL; then the session (row and cache entry) is gone."""
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from meetnow.services import sessions_clear_expired

    settings.MEETNOW_SOCIAL_SIGNUP_TTL = 600
    _google_login(app, google.id_token())
    token = app.token
    assert token is not None
    store = SessionStore(session_key=token)
    assert store.get_expiry_age() <= 600  # the cache entry's lifetime too
    row = Session.objects.get(session_key=token)
    assert row.expire_date <= timezone.now() + dt.timedelta(seconds=600)
    Session.objects.filter(session_key=token).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    assert sessions_clear_expired() >= 1
    assert not Session.objects.filter(session_key=token).exists()

    # A sign-up completed in time gets an ordinary session back.
    fresh = App(app.capture)
    assert _google_login(fresh, google.id_token(sub="55501"))[0] == 401
    status, body = fresh.call("POST", "/auth/provider/signup", signup_data)
    assert status == 200, body
    assert SessionStore(session_key=fresh.token).get_expiry_age() > 600
