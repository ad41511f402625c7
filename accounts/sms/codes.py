"""One-time codes never sit in clear in allauth's session state (P12, P18).

allauth keeps a pending code in the flow's state (the session: ``django_session`` and
the cache) and later compares what the person typed with it; it has no hook for how
the code is stored. So the adapter hands allauth a keyed hash instead of the code
(:func:`code_stash`): allauth stores the hash, the adapter's ``send_verification_code_sms``
gets the hash back in the same request and swaps in the real code kept on the request
object (never in the session), and the comparison allauth makes is taught the hash
(:func:`install`, from ``AccountsConfig.ready``): a typed code is hashed, then compared
in constant time. A code allauth made before this (a plain stored value) still
compares the old way.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from allauth.core.internal import cryptokit
from django.utils.crypto import salted_hmac

PREFIX = "H"  # letters and hex digits only: allauth's normaliser strips punctuation
_SALT = "meetnow.accounts.sms.codes"
_STASH = "_meetnow_codes"


def code_hash(code: str) -> str:
    """The stored form of a code: HMAC-SHA256 keyed by ``SECRET_KEY`` (hex)."""
    normalized = cryptokit.normalize_user_code(code)
    return PREFIX + salted_hmac(_SALT, normalized, algorithm="sha256").hexdigest()


def _is_hash(value: str) -> bool:
    return len(value) == len(PREFIX) + 64 and value.startswith(PREFIX)


def code_stash(request: Any, code: str) -> str:
    """Keep ``code`` on the request (this request only); return what allauth stores."""
    stored = code_hash(code)
    stash: dict[str, str] = getattr(request, _STASH, None) or {}
    stash[stored] = code
    if request is not None:
        setattr(request, _STASH, stash)
    return stored


def code_unstash(request: Any, stored: str) -> str:
    """The real code behind what allauth passes to the adapter to send."""
    if not _is_hash(stored):
        return stored
    stash: dict[str, str] = getattr(request, _STASH, None) or {}
    code = stash.get(stored)
    if code is None:
        raise RuntimeError("a hashed code reached delivery outside the request that made it")
    return code


def compare(*, actual: str, expected: str) -> bool:
    """allauth's ``compare_user_code`` for hashed codes (plain ones as before)."""
    if _is_hash(expected):
        return bool(actual) and hmac.compare_digest(code_hash(actual), expected)
    return _original(actual=actual, expected=expected)


_original: Callable[..., bool] = cryptokit.compare_user_code


def install() -> None:
    """Teach allauth's code checks (login/reauthentication by code, phone verification:
    the headless inputs and the forms) to compare against the stored hash."""
    from allauth.account import forms
    from allauth.headless.account import inputs

    for module in (forms, inputs):
        module.compare_user_code = compare
