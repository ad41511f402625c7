"""Cursor pagination for every list endpoint (stable under inserts, nothing enumerable).

A cursor comes back from the client, so it is input like any other: one that does not
decode, or whose position is not a value of the ordering field (``p=abc`` for an id),
is a 400 ``invalid_cursor``, never a 404 or a 500.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import DataError, models
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from meetnow.lib.errors import ApplicationError

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def invalid_cursor() -> ApplicationError:
    return ApplicationError(
        "invalid_cursor",
        str(_("This cursor is not valid. Start again from the first page.")),
        param="cursor",
    )


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 100
    ordering = "-id"

    _model: type[models.Model] | None = None

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        self._model = getattr(queryset, "model", None)
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, ValidationError, DataError) as exc:
            # The position passed decoding but not the database (e.g. a value out of
            # the column's range): the cursor is at fault, not the server.
            if request.query_params.get(self.cursor_query_param) is None:
                raise
            raise invalid_cursor() from exc

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise invalid_cursor() from exc
        if cursor is not None and cursor.position is not None:
            self._check_position(str(cursor.position))
        return cursor

    def _check_position(self, position: str) -> None:
        if self._model is None:
            return
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        try:
            field = self._model._meta.get_field(ordering.lstrip("-"))
        except FieldDoesNotExist:  # an annotation: the query itself will tell
            return
        if not isinstance(field, models.Field):
            return
        try:
            value = field.to_python(position)
        except (ValidationError, ValueError, TypeError, OverflowError) as exc:
            raise invalid_cursor() from exc
        if isinstance(value, int) and not _INT_MIN <= value <= _INT_MAX:
            raise invalid_cursor()
