"""A hot read compiled once from the ORM: constants inlined, only the real inputs bound.

Building a big queryset (a dozen joins and ``EXISTS`` conditions) and compiling it to
SQL costs milliseconds of Python per request, the same every time. A
``QueryTemplate`` runs that once per process and keeps the SQL, the column names and
the ORM's value converters; each request then only binds its own inputs and turns
rows into dicts.

Only the real inputs (the viewer, a cursor position) stay parameters; every other
value the ORM bound (a status, an audience, a duration bound from the settings) is
written into the SQL as a literal. That matters on PostgreSQL: psycopg prepares a
statement that a pooled connection has run a few times (``prepare_threshold``), and
after five executions PostgreSQL may switch a prepared statement to a *generic* plan,
made without looking at the values. With every constant a parameter, the generic
plan of the feed could not know that ``status = 'ready'`` or ``audience = 'public'``
match almost every row and chose a plan that took seconds; with the constants
inlined, its plan is the one the values call for.

Build a template from a queryset made with a distinct placeholder (an integer, a
UUID, a datetime, or a list of integers bound as one array parameter) for each real
input (``QueryTemplate.build(qs, {"viewer": VIEWER})``); the placeholders must reach
the SQL as bound parameters (plain ``=``/``<`` lookups on integer and UUID fields
do). The template
belongs to one database alias; callers cache it per process, keyed by whatever made
the SQL (page size, direction, the settings it inlines).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet

_TOKEN = re.compile(r"%%|%s")


class _Slot:
    __slots__ = ("convert", "name")

    def __init__(self, name: str, convert: Callable[[Any], Any] | None = None) -> None:
        self.name = name
        self.convert = convert


def _slot_for(value: Any, slots: Mapping[str, Any]) -> _Slot | None:
    """The slot whose placeholder ``value`` is, as the backend binds it: an integer as
    it is; a UUID as it is (PostgreSQL) or as its hex string (SQLite)."""
    for name, placeholder in slots.items():
        if type(value) is type(placeholder) and value == placeholder:
            return _Slot(name)
        if isinstance(placeholder, uuid.UUID) and value == placeholder.hex:
            return _Slot(name, convert=lambda given: uuid.UUID(str(given)).hex)
    return None


def _literal(value: Any, vendor: str) -> str | None:
    """``value`` as an SQL literal, or None to keep it bound (a date, a UUID, bytes)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        if vendor == "postgresql":
            return "true" if value else "false"
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value:
        # Standard SQL quoting (PostgreSQL has standard_conforming_strings on since 9.1:
        # backslashes are plain characters). A % must survive the driver's own
        # %-formatting of the statement.
        return "'" + value.replace("'", "''").replace("%", "%%") + "'"
    return None


@dataclass(frozen=True)
class QueryTemplate:
    alias: str
    sql: str
    params: tuple[Any, ...]  # a _Slot for each real input, constants kept bound
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[tuple[Callable[..., Any], ...], Any]], ...]

    @classmethod
    def build(cls, queryset: QuerySet[Any, Any], slots: Mapping[str, Any]) -> QueryTemplate:
        """Compile a ``.values(...)`` queryset; each value of ``slots`` is the
        placeholder (an integer or a UUID) that stands for the input of that name."""
        alias = queryset.db
        connection = connections[alias]
        query = queryset.query
        compiler = query.get_compiler(using=alias)
        sql, bound = compiler.as_sql()
        found: set[str] = set()
        pieces: list[str] = []
        params: list[Any] = []
        values = iter(bound)
        last = 0
        for match in _TOKEN.finditer(sql):
            if match.group() == "%%":
                continue
            pieces.append(sql[last : match.start()])
            last = match.end()
            value = next(values)
            slot = _slot_for(value, slots)
            literal = None if slot is not None else _literal(value, connection.vendor)
            if slot is not None:
                found.add(slot.name)
                pieces.append("%s")
                params.append(slot)
            elif literal is not None:
                pieces.append(literal)
            else:
                pieces.append("%s")
                params.append(value)
        pieces.append(sql[last:])
        if missing := set(slots) - found:
            raise ValueError(f"placeholders not bound as parameters: {sorted(missing)}")
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
        if len(names) != len(compiler.select):
            raise ValueError("build a template from a .values(...) queryset")
        expressions = [col for col, _sql, _alias in compiler.select]
        converters = compiler.get_converters(expressions)
        return cls(
            alias=alias,
            sql="".join(pieces),
            params=tuple(params),
            names=tuple(names),
            converters=tuple(converters.items()),
        )

    def bind(self, **inputs: Any) -> list[Any]:
        """The statement's parameters for these real inputs (for a caller that embeds
        ``sql`` in a statement of its own, e.g. as a ``WITH`` query)."""
        return [
            (p.convert(inputs[p.name]) if p.convert else inputs[p.name])
            if isinstance(p, _Slot)
            else p
            for p in self.params
        ]

    def rows(self, **inputs: Any) -> list[dict[str, Any]]:
        """Run it with the real inputs; one dict per row, values as the ORM gives them."""
        params = self.bind(**inputs)
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched: Sequence[Sequence[Any]] = cursor.fetchall()
        names = self.names
        if not self.converters:
            return [dict(zip(names, row, strict=True)) for row in fetched]
        out = []
        for row in fetched:
            values = list(row)
            for position, (functions, expression) in self.converters:
                value = values[position]
                for function in functions:
                    value = function(value, expression, connection)
                values[position] = value
            out.append(dict(zip(names, values, strict=True)))
        return out
