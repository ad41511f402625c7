"""Resident identity card numbers (GB 11643-1999): validation, birth date, masking.

The number is 18 characters: a 6-digit region code, the birth date ``YYYYMMDD``, a
3-digit sequence and an ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``).
``python-stdnum`` (``stdnum.cn.ric``) does the checks, with its table of region
codes; this module names each failure with a code the app can act on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from meetnow.lib.errors import ApplicationError

ID_NUMBER_LENGTH = 18
NAME_MAX_LENGTH = 32
# The oldest birth year a living resident's card can carry.
_OLDEST_YEAR = 1890


class IdNumberError(ApplicationError):
    """A malformed ID number: 400 with ``param="id_number"`` and a specific code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, param="id_number")


def id_number_clean(value: object) -> str:
    """The number in canonical form (spaces dropped, ``x`` upper-cased), or IdNumberError.

    Checks, in order: length (``id_number_length``), digits (``id_number_format``),
    the check character (``id_number_checksum``), the birth date
    (``id_number_birth_date``: a real day, not in the future) and the region code
    (``id_number_region``).
    """
    if not isinstance(value, str):
        raise IdNumberError("id_number_format", _("The ID number must be text."))
    number = "".join(value.split()).upper()
    if len(number) != ID_NUMBER_LENGTH:
        raise IdNumberError("id_number_length", _("An ID number has 18 characters."))
    if not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X"):
        raise IdNumberError(
            "id_number_format",
            _("An ID number is 17 digits followed by a digit or X."),
        )
    if number[-1] != ric.calc_check_digit(number):
        raise IdNumberError(
            "id_number_checksum", _("This ID number's last character does not match: check it.")
        )
    birth = _birth_date(number)
    if birth is None or birth.year < _OLDEST_YEAR or birth > timezone.localdate():
        raise IdNumberError("id_number_birth_date", _("This ID number holds no valid birth date."))
    try:
        ric.get_birth_place(number)
    except stdnum_errors.ValidationError:
        raise IdNumberError(
            "id_number_region", _("This ID number's region code does not exist.")
        ) from None
    return number


def _birth_date(number: str) -> dt.date | None:
    try:
        return ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        return None


def id_number_birth_date(number: str) -> dt.date:
    """The birth date a (clean, valid) number carries."""
    birth = _birth_date(number)
    if birth is None:  # pragma: no cover - id_number_clean checked it
        raise IdNumberError("id_number_birth_date", _("This ID number holds no valid birth date."))
    return birth


def id_number_hash(number: str) -> str:
    """Keyed hash (HMAC-SHA256 with ``IDENTITY_HASH_SECRET``) of a clean number.

    The same number always gives the same hash, so one person's ID can verify one
    account only; without the secret the hash can't be reversed by trying every
    number (there are only about 10^11 plausible ones, so a plain hash could be).
    """
    key = settings.IDENTITY_HASH_SECRET.encode()
    return hmac.new(key, f"cn-ric:{number}".encode(), hashlib.sha256).hexdigest()


def id_number_mask(number: str) -> str:
    """``**************1234``: only the last four characters (P18)."""
    return "*" * (len(number) - 4) + number[-4:]


def name_clean(value: object) -> str:
    """The real name as typed, trimmed: 1 to 32 characters (``name_invalid``)."""
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if (
        not name
        or len(name) > NAME_MAX_LENGTH
        or any(not (ch.isalpha() or ch in " ·.-") for ch in name)
    ):
        raise ApplicationError(
            "name_invalid",
            _("Give your name as on your ID card (at most 32 characters)."),
            param="name",
        )
    return name


def name_mask(name: str) -> str:
    """``张*`` / ``欧阳**``: the first character, the rest starred (P18)."""
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"
