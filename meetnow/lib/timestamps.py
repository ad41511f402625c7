"""The one way MeetNow writes a date or time for a machine: ISO 8601, UTC as ``Z``.

The API, the socket's frames, the sync events and the exports all use :func:`iso`
(the admin and messages people read use ``meetnow.lib.i18n.display``).
"""

from __future__ import annotations

from typing import Any


def iso(value: Any) -> str | None:
    """A date or an aware time as ISO 8601, ``+00:00`` written ``Z``; None stays None."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
