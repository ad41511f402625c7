"""django-allauth adapters: phone numbers on our User, codes by the SMS worker, bans.

Wired in settings (``ACCOUNT_ADAPTER``, ``SOCIALACCOUNT_ADAPTER``); research notes in
``../shared/research/allauth.md``.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import user_display
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal.httpkit import is_headless_request
from allauth.headless.adapter import DefaultHeadlessAdapter
from allauth.headless.internal.restkit.response import APIResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from accounts.forms import PhoneInputField
from accounts.models import Gender, SecurityEventKind, SmsChannel, SmsPurpose, User
from accounts.services import (
    device_login_record,
    security_event_record,
    sms_send,
    user_phone_set,
    user_phone_verify,
)
from accounts.sms.codes import code_stash, code_unstash
from meetnow.lib.i18n import language_current

# The app asks for a voice call instead of an SMS with this header on the request that
# sends a code (sign-up, login code request, resend): ``X-OTP-Channel: voice``.
CHANNEL_HEADER = "X-OTP-Channel"
DEVICE_ID_HEADER = "X-Device-Id"  # sent by the app at login (P6: new-device notice)
DEVICE_PLATFORM_HEADER = "X-Device-Platform"
# The app asks for a restricted rights session (export, privacy requests, support) for
# a banned account or one in the deletion cooling-off (privacy/rights_session.py).
RIGHTS_ACCESS_HEADER = "X-Rights-Access"


def rights_access_asked(request: HttpRequest | None) -> bool:
    return request is not None and request.headers.get(RIGHTS_ACCESS_HEADER, "") == "1"


class BannedResponse(APIResponse):  # type: ignore[misc]  # allauth ships no types
    def __init__(self, request: HttpRequest) -> None:
        super().__init__(
            request,
            status=403,
            errors=[
                {
                    "code": "account_banned",
                    "message": "This account has been banned. Contact support.",
                }
            ],
        )


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no types
    # --- phone numbers (allauth ships no phone model) ------------------------------

    def phone_form_field(self, **kwargs: Any) -> PhoneInputField:
        return PhoneInputField(**kwargs)

    def set_phone(self, user: AbstractBaseUser, phone: str, verified: bool) -> None:
        assert isinstance(user, User)  # noqa: S101 - AUTH_USER_MODEL
        user_phone_set(user=user, phone=phone, verified=verified)

    def get_phone(self, user: AbstractBaseUser) -> tuple[str, bool] | None:
        assert isinstance(user, User)  # noqa: S101
        if not user.phone:
            return None
        return str(user.phone), user.phone_verified

    def set_phone_verified(self, user: AbstractBaseUser, phone: str) -> None:
        assert isinstance(user, User)  # noqa: S101
        user_phone_verify(user=user, phone=phone)

    def get_user_by_phone(self, phone: str) -> User | None:
        # Prefer the verified holder: an abandoned sign-up may still hold the number.
        return User.objects.filter(phone=phone).order_by("-phone_verified", "pk").first()

    def save_user(
        self, request: HttpRequest, user: AbstractBaseUser, form: BaseForm, commit: bool = True
    ) -> AbstractBaseUser:
        assert isinstance(user, User)  # noqa: S101
        born = form.cleaned_data.get("date_of_birth")
        if born:
            user.date_of_birth = born
        user.language = language_current()  # the sign-up request's (Accept-Language)
        saved: AbstractBaseUser = super().save_user(request, user, form, commit=commit)
        return saved

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People sign up in the app only (headless API, with age and consent checks);
        # allauth's HTML pages stay for staff login and offer no sign-up.
        return is_headless_request(request) and bool(super().is_open_for_signup(request))

    # --- code delivery (P2) -----------------------------------------------------------

    def _channel(self) -> str:
        request = getattr(self, "request", None)
        if request is not None and request.headers.get(CHANNEL_HEADER, "").lower() == "voice":
            return SmsChannel.VOICE
        return SmsChannel.SMS

    def generate_phone_verification_code(self, *, user: AbstractBaseUser, phone: str) -> str:
        """allauth stores what this returns in the session: a keyed hash, never the code
        (P12, P18); the code itself waits on the request for ``send_verification_code_sms``."""
        code: str = super().generate_phone_verification_code(user=user, phone=phone)
        return code_stash(self.request, code)

    def send_verification_code_sms(
        self, user: AbstractBaseUser, phone: str, code: str, **kwargs: Any
    ) -> None:
        assert isinstance(user, User)  # noqa: S101
        code = code_unstash(self.request, code)
        if user.is_banned and not rights_access_asked(self.request):
            # No code for a banned account (unless it asks for a rights session, which
            # reaches only export, privacy requests and support): refuse before sending.
            self._refuse_banned(user)
        # One cap on every code sent to a number, whatever the flow (allauth limits
        # requests per flow, not resends across flows): SMS pumping protection (P2, P6).
        ratelimit.consume(self.request, action="sms_to_number", key=phone, raise_exception=True)
        if kwargs.get("reauthentication"):
            purpose = SmsPurpose.REAUTHENTICATE
        elif user.phone_verified and str(user.phone) == phone:
            purpose = SmsPurpose.LOGIN
        else:
            purpose = SmsPurpose.VERIFY_PHONE
        sms_send(phone=phone, code=code, purpose=purpose, channel=self._channel(), user=user)

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        sms_send(phone=phone, purpose=SmsPurpose.UNKNOWN_ACCOUNT, channel=SmsChannel.SMS)

    def send_account_already_exists_sms(self, phone: str) -> None:
        sms_send(phone=phone, purpose=SmsPurpose.ACCOUNT_EXISTS, channel=SmsChannel.SMS)

    # --- login ----------------------------------------------------------------------

    def get_login_stages(self) -> list[str]:
        return [
            "accounts.stages.PhoneVerificationStage"
            if stage == "allauth.account.stages.PhoneVerificationStage"
            else stage
            for stage in super().get_login_stages()
        ]

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> Any:
        assert isinstance(user, User)  # noqa: S101
        if user.is_banned:
            self._refuse_banned(user)
        return super().pre_login(request, user, **kwargs)

    def _refuse_banned(self, user: User) -> None:
        security_event_record(
            user=user,
            kind=SecurityEventKind.LOGIN_REFUSED_BANNED,
            ip_address=self.get_client_ip(self.request),
        )
        raise ImmediateHttpResponse(BannedResponse(self.request))

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> Any:
        assert isinstance(user, User)  # noqa: S101
        from allauth.account.internal.flows.login import get_authentication_records

        records = get_authentication_records(request, user)
        method = records[-1]["method"] if records else "unknown"
        security_event_record(
            user=user,
            kind=SecurityEventKind.LOGIN_SUCCEEDED,
            ip_address=self.get_client_ip(request),
            detail={"method": method, "signup": bool(kwargs.get("signup"))},
        )
        # The app names its install at login: a device never seen on the account is
        # announced to the others now, not only when it registers (P6).
        device_id = request.headers.get(DEVICE_ID_HEADER, "")
        if device_id:
            device_login_record(
                user=user,
                device_id=device_id,
                platform=request.headers.get(DEVICE_PLATFORM_HEADER, "").lower(),
                session_key=str(request.session.session_key or ""),
                ip_address=self.get_client_ip(request),
            )
        return super().post_login(request, user, **kwargs)

    def respond_user_inactive(self, request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
        assert isinstance(user, User)  # noqa: S101
        if user.is_banned:
            raise ImmediateHttpResponse(BannedResponse(request))
        response: HttpResponse = super().respond_user_inactive(request, user)
        return response


# Only public profile data is read from a provider (P3): name, avatar, gender.
_PUBLIC_FIELDS = {
    "google": {"name", "given_name", "picture", "sub"},
    "apple": {"sub"},
    "facebook": {"id", "name", "picture"},
    "wechat": {"openid", "unionid", "nickname", "headimgurl", "sex"},
}


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]  # allauth ships no types
    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # A social sign-up still needs a date of birth and consent (P1, P14): always
        # go through allauth's provider sign-up step.
        return False

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # The web client's redirect login (accounts/web_login.py) comes back through
        # allauth's callback page, not the headless API; its sign-up step is still the
        # headless provider/signup with the age and consent checks. Only a headless
        # flow's state (never allauth's HTML login pages) gets that far.
        if sociallogin.is_headless:
            return bool(account_settings.SIGNUP_ENABLED)
        return bool(super().is_open_for_signup(request, sociallogin))

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        allowed = _PUBLIC_FIELDS.get(sociallogin.account.provider, set())
        extra = sociallogin.account.extra_data or {}
        sociallogin.account.extra_data = {k: v for k, v in extra.items() if k in allowed}
        # Never keep the provider's e-mail address (P3: public profile only).
        sociallogin.email_addresses = []
        super().pre_social_login(request, sociallogin)

    def validate_disconnect(self, account: SocialAccount, accounts: Any) -> None:
        """The last way to log in can't be removed (P3): keep a verified phone or another."""
        user = account.user
        others = [a for a in accounts if a.pk != account.pk]
        if not others and not (getattr(user, "phone", None) and user.phone_verified):
            raise ValidationError(
                _("This is your only way to log in: add a phone number first."),
                code="last_login_method",
            )

    def populate_user(
        self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]
    ) -> User:
        user = sociallogin.user
        assert isinstance(user, User)  # noqa: S101
        nickname = data.get("nickname") or data.get("first_name") or data.get("name") or ""
        user.nickname = str(nickname)[:40]
        user.language = language_current()
        gender = data.get("gender")
        if gender in Gender.values:
            user.gender = gender
        return user


class HeadlessAdapter(DefaultHeadlessAdapter):  # type: ignore[misc]  # allauth ships no types
    """allauth's user payload with the public UUID, never the internal integer id.

    The dataclass (not just ``serialize_user``) is replaced so that allauth's OpenAPI
    spec documents the same shape. The app is phone-only: no e-mail field.
    """

    def get_user_dataclass(self) -> type:
        def field(description: str, example: Any) -> Any:
            return dataclasses.field(metadata={"description": description, "example": example})

        return dataclasses.make_dataclass(
            "User",
            [
                ("id", str | None, field("The user's public id (UUID).", str(uuid.uuid4()))),
                ("display", str, field("The display name for the user.", "Mei")),
                (
                    "has_usable_password",
                    bool,
                    field("Whether the account has a password (app users have none).", False),
                ),
            ],
        )

    def user_as_dataclass(self, user: AbstractBaseUser) -> Any:
        user_dc = self.get_user_dataclass()
        public_id = getattr(user, "uuid", None)
        return user_dc(
            id=str(public_id) if user.pk and public_id else None,
            display=user_display(user),
            has_usable_password=user.has_usable_password(),
        )
