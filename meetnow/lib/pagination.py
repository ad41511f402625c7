"""Cursor pagination for every list endpoint (stable under inserts, nothing enumerable).

A cursor comes back from the client, so it is input like any other: one that does not
decode, or whose position is not a value of the ordering field (``p=abc`` for an id),
is a 400 ``invalid_cursor``, never a 404 or a 500.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def paginate_rows(
        self,
        fetch: Callable[..., list[dict[str, Any]]],
        model: type[models.Model],
        request: Request,
        view: Any = None,
    ) -> list[dict[str, Any]] | None:
        """``paginate_queryset`` for a list read as rows (dicts) rather than a queryset:
        the same cursors, links and errors. ``fetch(descending=, position=, after=,
        offset=, limit=)`` returns the rows in the ordering field's order (descending
        or not), from ``offset`` rows past ``position`` (``after``: below it, else
        above; None: from the start), at most ``limit``. ``model`` owns the ordering
        field (a cursor's position is checked against it)."""
        source = _Rows(fetch, model)
        return self.paginate_queryset(source, request, view)

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


class _Rows:
    """The little of a queryset that DRF's cursor pagination uses (``order_by``, one
    ``filter`` on the ordering field, a slice), recorded and handed to ``fetch``."""

    def __init__(self, fetch: Callable[..., list[dict[str, Any]]], model: type[models.Model]):
        self.fetch = fetch
        self.model = model
        self.descending = False
        self.position: int | None = None
        self.after = True

    def order_by(self, *fields: str) -> _Rows:
        (field,) = fields
        self.descending = field.startswith("-")
        return self

    def filter(self, **lookups: Any) -> _Rows:
        ((lookup, value),) = lookups.items()
        field = self.model._meta.get_field(lookup.rsplit("__", 1)[0])
        if not isinstance(field, models.Field):
            raise TypeError(f"cannot page rows by {lookup}")
        self.position = int(field.to_python(value))
        self.after = lookup.endswith("__lt")
        return self

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        offset = window.start or 0
        return self.fetch(
            descending=self.descending,
            position=self.position,
            after=self.after,
            offset=offset,
            limit=window.stop - offset,
        )
