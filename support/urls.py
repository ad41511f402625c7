"""Support ticket API (``/api/v1/support/tickets``; docs/admin.md, P17)."""

from __future__ import annotations

from django.urls import path

from support import apis

urlpatterns = [
    path(
        "support/public-tickets",
        apis.SupportPublicTicketApi.as_view(),
        name="support-public-tickets",
    ),
    path("support/tickets", apis.SupportTicketListApi.as_view(), name="support-tickets"),
    path(
        "support/tickets/<str:ticket_uuid>",
        apis.SupportTicketDetailApi.as_view(),
        name="support-ticket",
    ),
    path(
        "support/tickets/<str:ticket_uuid>/replies",
        apis.SupportTicketReplyApi.as_view(),
        name="support-ticket-replies",
    ),
]
