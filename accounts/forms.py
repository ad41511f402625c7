"""Form fields the allauth flows use (through the adapter and the signup form)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.phones import InvalidPhoneError, phone_normalise


class PhoneInputField(forms.CharField):
    """A mobile number typed in national or international form, cleaned to E.164 (P2)."""

    default_error_messages = {
        "invalid_phone": _("Enter a valid mobile number, e.g. +8613800138000 or 13800138000."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        if value is not None and not isinstance(value, str):
            raise ValidationError(self.error_messages["invalid_phone"], code="invalid_phone")
        text = super().to_python(value)
        if not text:
            return ""
        try:
            return phone_normalise(text)
        except InvalidPhoneError:
            raise ValidationError(
                self.error_messages["invalid_phone"], code="invalid_phone"
            ) from None


class StrictDateField(forms.DateField):
    """An ISO date (``YYYY-MM-DD``) from JSON; any other JSON type is invalid, not a 500."""

    input_formats = ["%Y-%m-%d"]

    def to_python(self, value: Any) -> dt.date | None:
        if value is not None and not isinstance(value, str | dt.date):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class SocialSignupPhoneOptional(forms.Form):
    """A sign-up through a provider (Google, WeChat...) needs no phone number (P3).

    allauth's social sign-up form carries ``sociallogin`` and builds its phone field
    from ``ACCOUNT_SIGNUP_FIELDS`` (where the phone is required for phone sign-up).
    """

    def full_clean(self) -> None:
        if getattr(self, "sociallogin", None) is not None and "phone" in self.fields:
            self.fields["phone"].required = False
        super().full_clean()
