"""The admin index as a dashboard: queue sizes for each role, anonymous statistics (P19).

Each card is shown only to staff who may open the queue behind it. Every number is
an aggregate: no card carries a name, number or any other identity. A few COUNT
queries in all, whatever the size of the queues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from meetnow.lib.i18n import display

# A privacy request due within this many days shows as "due soon".
DUE_SOON = timedelta(days=3)
STATS_DAYS = 7


@dataclass
class Card:
    title: str
    value: int | str
    note: str = ""
    url: str = ""
    alert: bool = False


@dataclass
class DayStats:
    day: str
    signups: int | None  # None: suppressed, too small to be anonymous
    messages: int | None


@dataclass
class Dashboard:
    queues: list[Card] = field(default_factory=list)
    daily: list[DayStats] = field(default_factory=list)
    suppressed_below: int = 0

    def __bool__(self) -> bool:
        return bool(self.queues or self.daily)


def _url(name: str, query: str = "") -> str:
    try:
        return reverse(name) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return ""


def _oldest_note(oldest: Any) -> str:
    if oldest is None:
        return _("queue empty")
    return _("oldest waiting %(time)s") % {"time": timesince(oldest)}


def _report_cards() -> list[Card]:
    from chat.models import Report, ReportStatus

    row = Report.objects.filter(status=ReportStatus.OPEN).aggregate(
        count=Count("id"), oldest=Min("created_at")
    )
    note = _oldest_note(row["oldest"])
    return [
        Card(
            title=_("Open reports"),
            value=row["count"],
            note=note,
            url=_url("admin:chat_report_changelist", "status__exact=open"),
            alert=row["count"] > 0,
        )
    ]


def _post_report_cards() -> list[Card]:
    from chat.models import ReportStatus
    from dating.models import PostReport

    row = PostReport.objects.filter(status=ReportStatus.OPEN).aggregate(
        count=Count("id"), oldest=Min("created_at")
    )
    note = (
        _("oldest waiting %(time)s") % {"time": timesince(row["oldest"])}
        if row["oldest"]
        else _("queue empty")
    )
    return [
        Card(
            title=_("Open reports of voice posts"),
            value=row["count"],
            note=note,
            url=_url("admin:dating_postreport_changelist", "status__exact=open"),
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
            title=_("Open privacy requests"),
            value=row["count"],
            note=_("%(count)d due within %(days)d days")
            % {"count": row["due_soon"], "days": DUE_SOON.days},
            url=url,
        ),
        Card(
            title=_("Overdue privacy requests"),
            value=row["overdue"],
            note=_("past their deadline") if row["overdue"] else _("none late"),
            url=url,
            alert=row["overdue"] > 0,
        ),
    ]


def _ticket_cards() -> list[Card]:
    from support.models import SupportTicket, TicketStatus

    row = SupportTicket.objects.filter(status=TicketStatus.OPEN).aggregate(
        count=Count("id"), oldest=Min("updated_at")
    )
    note = _oldest_note(row["oldest"])
    return [
        Card(
            title=_("Support tickets waiting"),
            value=row["count"],
            note=note,
            url=_url("admin:privacy_supportticket_changelist", "status__exact=open"),
            alert=row["count"] > 0,
        )
    ]


def _daily_statistics(days: int) -> list[DayStats]:
    from privacy.stats import stats_messages_per_day, stats_signups_per_day

    signups = stats_signups_per_day(days=days)
    messages = stats_messages_per_day(days=days)
    # A day (UTC, as the statistics count) written as the staff member reads dates.
    return [
        DayStats(
            day=display(dt.date.fromisoformat(s["day"])), signups=s["count"], messages=m["count"]
        )
        for s, m in reversed(list(zip(signups, messages, strict=True)))
    ]


def dashboard_for(*, user: Any, days: int = STATS_DAYS) -> Dashboard:
    """What ``user`` may see: each queue behind its view permission; statistics for all staff.

    The statistics are privacy's anonymous aggregates (P19): small counts come back
    suppressed and are shown as "fewer than N".
    """
    dashboard = Dashboard(suppressed_below=settings.MEETNOW_STATS_MIN_COUNT)
    if user.has_perm("chat.view_report"):
        dashboard.queues += _report_cards()
    if user.has_perm("dating.view_postreport"):
        dashboard.queues += _post_report_cards()
    if user.has_perm("privacy.view_privacyrequest"):
        dashboard.queues += _privacy_cards()
    if user.has_perm("privacy.view_supportticket"):
        dashboard.queues += _ticket_cards()
    if user.is_staff:
        dashboard.daily = _daily_statistics(days)
    return dashboard
