"""Anonymous statistics for staff (P19): aggregate counts, no identities.

Counts between 1 and ``MEETNOW_STATS_MIN_COUNT - 1`` are suppressed (``None``, shown
as "fewer than N"): a small count can point at a person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from chat.models import Message, MessageKind
from meetnow.lib.deadlines import effective_due_expression
from privacy.models import OPEN_REQUEST_STATUSES, PrivacyRequest


def suppress(count: int) -> int | None:
    """``count``, or None when it is small enough to identify someone."""
    return None if 0 < count < settings.MEETNOW_STATS_MIN_COUNT else count


def _per_day(queryset: Any, field: str, days: int) -> list[dict[str, Any]]:
    today = timezone.now().date()
    start = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(n=Count("pk"))
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [
        {
            "day": (start + dt.timedelta(days=i)).isoformat(),
            "count": suppress(counts.get(start + dt.timedelta(days=i), 0)),
        }
        for i in range(days)
    ]


def stats_signups_per_day(*, days: int = 30) -> list[dict[str, Any]]:
    """App sign-ups per day (staff excluded), oldest first; one query."""
    return _per_day(User.objects.filter(is_staff=False), "date_joined", days)


def stats_messages_per_day(*, days: int = 30) -> list[dict[str, Any]]:
    """Messages sent per day (system messages excluded), oldest first; one query."""
    return _per_day(Message.objects.exclude(kind=MessageKind.SYSTEM), "created_at", days)


def stats_requests_open() -> dict[str, Any]:
    """Open privacy requests by kind and status, and how many are overdue; two queries."""
    open_requests = PrivacyRequest.objects.filter(status__in=OPEN_REQUEST_STATUSES)
    by_status: dict[str, dict[str, int | None]] = {}
    for row in open_requests.values("kind", "status").annotate(n=Count("pk")):
        by_status.setdefault(row["kind"], {})[row["status"]] = suppress(row["n"])
    now = timezone.now()
    overdue = (
        open_requests.annotate(effective_due=effective_due_expression())
        .filter(effective_due__lt=now)
        .count()
    )
    return {"by_kind_and_status": by_status, "overdue": suppress(overdue)}
