"""Logging that never carries phone numbers, one-time codes or ID numbers (P18).

:class:`RedactPersonalDataFilter` sits on every handler (settings.LOGGING). It
rewrites the formatted message and any exception text of each record, so a
careless ``logger.info("sent %s to %s", code, phone)`` still logs neither.
"""

from __future__ import annotations

import logging
import re

# International numbers (+8613800138000, +1 415 555 0100) and bare national mobile
# numbers of 10 to 15 digits. UUIDs (Celery task ids, public ids) come first in the
# alternation and are kept as they are: their last group can be 12 digits
# ("…-bfb0-123456789012"), which alone looks like a national number.
_HEX = "[0-9a-fA-F]"
_UUID = rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_PHONE = re.compile(
    rf"(?P<uuid>(?<![\w-]){_UUID}(?![\w-]))"
    r"|(?<![\w+])\+\d[\d ().-]{5,18}\d(?!\w)"
    # A bare run of digits, not part of a word, a hyphenated id or a decimal number
    # (a full stop ending the sentence is fine).
    r"|(?<![\w-])(?<!\d\.)\d{10,15}(?!\w|-|\.\d)"
)
# One-time codes: 4 to 8 digits next to a word that says so ("code 123456",
# "otp=123456", "code": "123456").
_CODE = re.compile(
    r"(?i)\b(code|otp|pin|verification|passcode)(\W{1,4})(\d{4,8})\b",
)
PHONE_MASK = "[phone]"
CODE_MASK = "[code]"
# Capability URLs: whoever has the link has the file or the whole export (valid up to 7
# days), so the token in the path, and any token-like query parameter, is masked. The
# server's access log (uvicorn.access, settings.LOGGING) goes through this too.
_CAPABILITY = re.compile(
    r"(/(?:media/download|privacy/exports)/)[^/?#\s\"']+"
    r"|(?i:([?&](?:token|key|signature|sig|code|x-amz-signature|x-amz-credential)=))[^&#\s\"']+"
)
TOKEN_MASK = "[token]"  # noqa: S105
# Resident ID numbers (identity verification, P7/P18): 17 digits and a digit or X.
_ID_NUMBER = re.compile(r"(?<![\w-])\d{17}[\dXx](?![\w-])")
ID_NUMBER_MASK = "[id-number]"


def redact(text: str) -> str:
    """Replace every phone number, one-time code, ID number and capability token in
    ``text`` with a mask."""
    text = _CAPABILITY.sub(lambda m: f"{m.group(1) or m.group(2)}{TOKEN_MASK}", text)
    text = _CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}{CODE_MASK}", text)
    text = _ID_NUMBER.sub(ID_NUMBER_MASK, text)
    return _PHONE.sub(lambda m: m.group("uuid") or PHONE_MASK, text)


class RedactPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
