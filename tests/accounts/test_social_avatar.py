"""The provider's picture becomes the profile photo only if the user chooses it at a
social sign-up (P3), through the media pipeline; WeChat and its picture faked on
127.0.0.1."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.conf import LazySettings
from PIL import Image, ImageDraw

from media.models import MediaFile
from tests.accounts.conftest import App
from tests.accounts.fakes import FakeServer, Received, Reply, fake_server
from tests.accounts.test_social import WECHAT_APP_ID, WECHAT_SECRET, _wechat_login, wechat_api

pytestmark = pytest.mark.django_db


def _picture() -> bytes:
    """A JPEG with a GPS position, drawn without PIL's noise generator (whose global
    random state other tests' images depend on)."""
    image = Image.new("RGB", (320, 320), (30, 120, 200))
    ImageDraw.Draw(image).ellipse((80, 80, 240, 240), fill=(200, 40, 40))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


PICTURE = _picture()


@pytest.fixture
def wechat_with_picture(settings: LazySettings) -> Iterator[FakeServer]:
    api = wechat_api()
    base: dict[str, str] = {}

    def handle(request: Received) -> Reply:
        if request.path == "/headimg/132":
            return Reply(200, PICTURE)
        reply = api(request)
        if request.path == "/sns/userinfo" and isinstance(reply.body, dict):
            reply.body["headimgurl"] = f"{base['url']}/headimg/132"
        return reply

    with fake_server(handle) as server:
        base["url"] = server.base_url
        settings.SOCIALACCOUNT_PROVIDERS = {
            **settings.SOCIALACCOUNT_PROVIDERS,
            "wechat": {
                "APPS": [{"client_id": WECHAT_APP_ID, "secret": WECHAT_SECRET, "key": ""}],
                "API_BASE": server.base_url,
                "TIMEOUT": 2.0,
            },
        }
        yield server


def _sign_up(app: App, signup_data: dict[str, str], **extra: Any) -> None:
    status, body = _wechat_login(app, "sdk-code-ok")
    assert status == 401, body
    status, body = app.call("POST", "/auth/provider/signup", {**signup_data, **extra})
    assert status == 200, body


def test_the_provider_picture_becomes_the_photo_only_when_chosen(
    app_factory: Any, wechat_with_picture: FakeServer, signup_data: dict[str, str]
) -> None:
    # Not chosen: nothing is fetched, the account has no photo, and works.
    first = app_factory()
    _sign_up(first, signup_data)
    user = SocialAccount.objects.get(provider="wechat").user
    assert user.avatar is None
    assert "/headimg/132" not in [r.path for r in wechat_with_picture.received]
    assert first.call("GET", "/api/v1/me")[0] == 200
    SocialAccount.objects.all().delete()
    user.delete()

    # Chosen: the worker fetches it once and it goes through the media pipeline.
    second = app_factory()
    _sign_up(second, signup_data, use_provider_avatar=True)
    user = SocialAccount.objects.get(provider="wechat").user
    user.refresh_from_db()
    assert [r.path for r in wechat_with_picture.received].count("/headimg/132") == 1
    avatar = MediaFile.objects.get(pk=user.avatar_id)
    assert (avatar.owner_id, avatar.purpose, avatar.status) == (user.pk, "avatar", "ready")
    assert (avatar.width, avatar.height) == (320, 320)
    status, me = second.call("GET", "/api/v1/me")
    assert status == 200
    assert me["avatar"] is not None
