"""A django-allauth provider for WeChat's mobile-app login (token flow only).

The WeChat SDK in the app returns a one-time ``code``. The app posts it to allauth's
``/_allauth/app/v1/auth/provider/token`` as
``{"provider": "wechat", "process": "login", "token": {"client_id": APPID,
"access_token": CODE}}`` (allauth's input insists on ``access_token`` or ``id_token``;
``code`` is accepted too). The server exchanges the code at
``sns/oauth2/access_token`` with the app secret, then reads ``sns/userinfo``. The
account is keyed by ``unionid`` when WeChat gives one (the same across all apps of
one WeChat Open Platform account), else by ``openid``. Only public profile data
is kept: nickname, avatar URL, gender (P3).
"""

from __future__ import annotations

from typing import Any

import httpx
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

_SEX_TO_GENDER = {1: "male", 2: "female"}


class WeChatAccount(ProviderAccount):  # type: ignore[misc]  # allauth ships no types
    def get_avatar_url(self) -> str | None:
        url = self.account.extra_data.get("headimgurl")
        return str(url) if url else None

    def to_str(self) -> str:
        return str(self.account.extra_data.get("nickname") or super().to_str())


class WeChatProvider(Provider):  # type: ignore[misc]  # allauth ships no types
    id = "wechat"
    name = "WeChat"
    account_class = WeChatAccount
    uses_apps = True
    supports_redirect = False
    supports_token_authentication = True

    def _settings(self) -> dict[str, Any]:
        return dict(self.get_settings())

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        config = self._settings()
        base = str(config.get("API_BASE", "https://api.weixin.qq.com")).rstrip("/")
        try:
            with httpx.Client(timeout=float(config.get("TIMEOUT", 5.0))) as client:
                response = client.get(f"{base}{path}", params=params)
        except httpx.HTTPError as exc:
            raise ValidationError(
                _("WeChat could not be reached. Try again."), code="provider_unavailable"
            ) from exc
        if response.status_code >= 500:
            raise ValidationError(
                _("WeChat could not be reached. Try again."), code="provider_unavailable"
            )
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("errcode") or response.status_code >= 400:
            raise get_adapter().validation_error("invalid_token")
        return data

    def verify_token(self, request: HttpRequest, token: dict[str, Any]) -> SocialLogin:
        code = token.get("code") or token.get("access_token")
        if not isinstance(code, str) or not code or len(code) > 512:
            raise get_adapter().validation_error("invalid_token")
        grant = self._get(
            "/sns/oauth2/access_token",
            {
                "appid": self.app.client_id,
                "secret": self.app.secret,
                "code": code,
                "grant_type": "authorization_code",
            },
        )
        access_token, openid = grant.get("access_token"), grant.get("openid")
        if not isinstance(access_token, str) or not isinstance(openid, str):
            raise get_adapter().validation_error("invalid_token")
        info = self._get("/sns/userinfo", {"access_token": access_token, "openid": openid})
        if info.get("openid") != openid:
            raise get_adapter().validation_error("invalid_token")
        if not info.get("unionid") and grant.get("unionid"):
            info["unionid"] = grant["unionid"]
        return self.sociallogin_from_response(request, info)

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data.get("unionid") or data["openid"])

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {"nickname": data.get("nickname") or ""}
        gender = _SEX_TO_GENDER.get(data.get("sex"))  # type: ignore[arg-type]
        if gender:
            fields["gender"] = gender
        return fields

    def extract_extra_data(self, data: dict[str, Any]) -> dict[str, Any]:
        keep = ("openid", "unionid", "nickname", "headimgurl", "sex")
        return {key: data[key] for key in keep if key in data}


provider_classes = [WeChatProvider]
