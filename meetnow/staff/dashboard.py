"""The admin index as a dashboard: queue sizes for each role, anonymous statistics (P19).

Each card is shown only to staff who may open the queue behind it. Every number is
an aggregate: no card carries a name, number or any other identity. A few COUNT
queries in all, whatever the size of the queues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince

# A privacy request due within this many days shows as "due soon".
DUE_SOON = timedelta(days=3)


@dataclass
class Card:
    title: str
    value: int | str
    note: str = ""
    url: str = ""
    alert: bool = False


@dataclass
class Dashboard:
    queues: list[Card] = field(default_factory=list)
    statistics: list[Card] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.queues or self.statistics)


def _url(name: str, query: str = "") -> str:
    try:
        return reverse(name) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return ""


def _report_cards() -> list[Card]:
    from chat.models import Report, ReportStatus

    row = Report.objects.filter(status=ReportStatus.OPEN).aggregate(
        count=Count("id"), oldest=Min("created_at")
    )
    note = f"oldest waiting {timesince(row['oldest'])}" if row["oldest"] else "queue empty"
    return [
        Card(
            title="Open reports",
            value=row["count"],
            note=note,
            url=_url("admin:chat_report_changelist", "status__exact=open"),
            alert=row["count"] > 0,
        )
    ]


def _privacy_cards() -> list[Card]:
    from privacy.models import OPEN_REQUEST_STATUSES, PrivacyRequest

    now = timezone.now()
    due = Coalesce("extended_due_at", "due_at")
    row = (
        PrivacyRequest.objects.filter(status__in=OPEN_REQUEST_STATUSES)
        .annotate(effective_due=due)
        .aggregate(
            count=Count("id"),
            overdue=Count("id", filter=Q(effective_due__lt=now)),
            due_soon=Count(
                "id", filter=Q(effective_due__gte=now, effective_due__lt=now + DUE_SOON)
            ),
        )
    )
    url = _url("admin:privacy_privacyrequest_changelist")
    return [
        Card(
            title="Open privacy requests",
            value=row["count"],
            note=f"{row['due_soon']} due within {DUE_SOON.days} days",
            url=url,
        ),
        Card(
            title="Overdue privacy requests",
            value=row["overdue"],
            note="past their deadline" if row["overdue"] else "none late",
            url=url,
            alert=row["overdue"] > 0,
        ),
    ]


def dashboard_for(*, user: Any) -> Dashboard:
    """The cards ``user`` may see: each queue behind a view permission."""
    dashboard = Dashboard()
    if user.has_perm("chat.view_report"):
        dashboard.queues += _report_cards()
    if user.has_perm("privacy.view_privacyrequest"):
        dashboard.queues += _privacy_cards()
    return dashboard
