"""Deadlines in working days (P13, P17): privacy requests and support tickets.

One place computes them:

- :func:`add_working_days` counts working days. For a person whose phone number is
  Chinese (region ``CN``) the calendar is China's public holidays with their
  make-up working days (the ``holidays`` package, dates in Asia/Shanghai); for
  everyone else it is Monday to Friday.
- :func:`effective_due` is the deadline in force: the extended one when staff
  extended it, else the original one; :func:`effective_due_expression` is the same
  rule for a query (ordering, filtering, counting overdue requests).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache
from typing import Any

import holidays
import phonenumbers
from django.db.models import F
from django.db.models.functions import Coalesce

CN = "CN"
CN_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


@cache
def _cn_calendar() -> holidays.HolidayBase:
    # Years are filled in on first use of a date (the package's ``expand``).
    return holidays.country_holidays(CN)


def calendar_for_phone(phone: Any) -> str:
    """``"CN"`` for a Chinese phone number, ``""`` (Monday to Friday) otherwise."""
    if not phone:
        return ""
    number = phone
    if not isinstance(number, phonenumbers.PhoneNumber):
        try:
            number = phonenumbers.parse(str(phone), None)
        except phonenumbers.NumberParseException:
            return ""
    return CN if phonenumbers.region_code_for_number(number) == CN else ""


def is_working_day(day: dt.date, *, calendar: str = "") -> bool:
    if calendar == CN:
        return bool(_cn_calendar().is_working_day(day))
    return day.weekday() < 5


def add_working_days(start: dt.datetime, days: int, *, calendar: str = "") -> dt.datetime:
    """``start`` plus ``days`` working days, same time of day.

    ``calendar`` ``"CN"`` skips China's public holidays and counts its make-up
    Saturdays and Sundays as working days, on Beijing dates; ``""`` counts Monday to
    Friday. Deadlines count working days (CN 15 working days; research/privacy.md §3),
    which also keeps the 15-calendar-day erasure grace period inside the deadline.
    """
    current = start.astimezone(CN_TZ) if calendar == CN and start.tzinfo else start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current.date(), calendar=calendar):
            remaining -= 1
    return current.astimezone(start.tzinfo) if start.tzinfo else current


def due_for_phone(*, received_at: dt.datetime, days: int, phone: Any) -> dt.datetime:
    """The deadline ``days`` working days after ``received_at`` in the calendar of
    the person with ``phone``."""
    return add_working_days(received_at, days, calendar=calendar_for_phone(phone))


def effective_due(due_at: dt.datetime, extended_due_at: dt.datetime | None) -> dt.datetime:
    """The deadline in force: the extension if there is one, else the original."""
    return extended_due_at or due_at


def effective_due_expression(
    due_field: str = "due_at", extended_field: str = "extended_due_at"
) -> Coalesce:
    """:func:`effective_due` in SQL, for ``annotate(effective_due=...)``."""
    return Coalesce(F(extended_field), F(due_field))
