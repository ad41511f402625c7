"""The in-app notices inbox (``/api/v1/notices``; P13, P17).

Each notice's text is written now, in the request's language (``accounts/notices.py``).
A banned account or one in the deletion cooling-off reads its notices with its rights
token (``privacy/rights_session.py``): an export's "ready" notice is how it gets the link.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.current import current_user
from accounts.models import Notice
from accounts.notices import notice_text
from meetnow.lib.pagination import CursorPagination
from meetnow.lib.schema import page_of
from meetnow.lib.timestamps import iso


class NoticeOut(serializers.Serializer[Any]):
    class Meta:
        ref_name = "Notice"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    link = serializers.URLField(allow_null=True)
    subject = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NoticePageOut(page_of(NoticeOut, "NoticePage")):  # type: ignore[misc]  # a built class
    unread = serializers.IntegerField()


def notice_payload(notice: Notice, *, request: Request) -> dict[str, Any]:
    text = notice_text(notice)
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "title": text.title,
        "body": text.body,
        "link": request.build_absolute_uri(text.link) if text.link else None,
        "subject": text.subject,
        "created_at": iso(notice.created_at),
        "read_at": iso(notice.read_at),
    }


class NoticeListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        responses=NoticePageOut,
        operation_id="notices_list",
    )
    def get(self, request: Request) -> Response:
        """My notices, newest first, in my language, and how many are unread."""
        user = current_user(request)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(selectors.notices_of(user=user), request, view=self)
        response = paginator.get_paginated_response(
            [notice_payload(n, request=request) for n in page or []]
        )
        response.data["unread"] = selectors.notices_unread_count(user=user)
        return response


class NoticeReadApi(APIView):
    @extend_schema(request=None, responses=NoticeOut, operation_id="notice_read")
    def post(self, request: Request, notice_id: int) -> Response:
        """Mark one of my notices read (again: nothing changes)."""
        notice = selectors.notice_access(user=current_user(request), notice_id=notice_id)
        notice = services.notice_mark_read(notice=notice)
        return Response(notice_payload(notice, request=request))
