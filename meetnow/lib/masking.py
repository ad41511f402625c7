"""Masking of personal data for staff who don't need to see it in clear (P12, P18).

Superusers see values in clear; every other staff member sees a masked form in
admin lists and detail pages. Revealing a value is a deliberate, logged act
(see ``docs/admin.md``). Phone numbers have their own masker in ``accounts.phones``
(``phone_mask``), which knows country codes; the maskers here are generic.
"""

from __future__ import annotations

import ipaddress
from typing import Any

MASK = "****"


def can_see_personal_data(user: Any) -> bool:
    """Whether ``user`` may see phone numbers, device ids and IPs in clear (superusers only)."""
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


def mask_ip(value: Any) -> str:
    """``203.0.113.57`` → ``203.0.113.x``; ``2001:db8:1:2::5`` → ``2001:db8:x``.

    Keeps what tells a moderator "same network" apart from "different network",
    nothing that identifies a subscriber line.
    """
    if value in (None, ""):
        return "-"
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return MASK
    if isinstance(address, ipaddress.IPv4Address):
        head = str(address).rsplit(".", 1)[0]
        return f"{head}.x"
    hextets = address.exploded.split(":")
    return f"{int(hextets[0], 16):x}:{int(hextets[1], 16):x}:x"


def mask_device_id(value: Any) -> str:
    """An app-scoped device id: first 4 and last 2 characters (``ab12****9f``)."""
    if value in (None, ""):
        return "-"
    text = str(value)
    if len(text) <= 8:
        return MASK
    return f"{text[:4]}{MASK}{text[-2:]}"


def mask_text(value: Any, *, keep_start: int = 1, keep_end: int = 1) -> str:
    """Any short identifier: its first and last characters around ``****``."""
    if value in (None, ""):
        return "-"
    text = str(value)
    if len(text) <= keep_start + keep_end + 2:
        return MASK
    end = text[-keep_end:] if keep_end else ""
    return f"{text[:keep_start]}{MASK}{end}"
