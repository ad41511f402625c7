"""Phone numbers: normalise what people type to E.164, mask what staff and logs see."""

from __future__ import annotations

import phonenumbers
from django.conf import settings


class InvalidPhoneError(ValueError):
    """The input is not a possible phone number."""


def phone_normalise(raw: str, *, region: str | None = None) -> str:
    """``raw`` in national (``138 0013 8000``) or international form, as E.164 (P2).

    National numbers are read in ``PHONENUMBER_DEFAULT_REGION``. Raises
    :class:`InvalidPhoneError` for anything that is not a valid number.
    """
    text = raw.strip()
    if not text or len(text) > 32:
        raise InvalidPhoneError("empty or too long")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError("unparseable") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_mask(e164: str) -> str:
    """``+8613800138000`` → ``+86 138****8000``: country code, 3 first and 4 last digits (P18)."""
    text = str(e164)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return "****"
    national = str(number.national_number)
    prefix = f"+{number.country_code}"
    if len(national) <= 7:
        return f"{prefix} {national[:1]}****{national[-2:]}"
    return f"{prefix} {national[:3]}****{national[-4:]}"
