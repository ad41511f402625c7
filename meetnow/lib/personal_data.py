"""The personal-data contract (DESIGN.md): the types each app's ``personal_data.py`` uses.

Every app that holds data about a user keeps, beside its models, a module
``<app>/personal_data.py`` with three module-level lists:

- ``declarations``: one :class:`Declaration` per model (how it is exported, erased, kept);
- ``erase_steps``: the chunked, idempotent :class:`EraseStep` s of an erasure, in order;
- ``export_sections``: the :class:`ExportSection` s (JSON files) of the export ZIP.

The steps call the app's own services. ``privacy`` discovers these modules through
the app registry, orders them by layer and runs them; no app imports ``privacy``,
and this module imports no app. The small chunk helpers below keep each step one
line long.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Model, QuerySet

from meetnow.lib.timestamps import iso

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


class Strategy(enum.StrEnum):
    DELETE = "delete"  # rows removed
    TOMBSTONE = "tombstone"  # row kept for others' history, content and link removed
    PSEUDONYMISE = "pseudonymise"  # row kept, every field identifying the user cleared
    KEEP = "keep"  # holds no personal value of the user (reason in ``note``)


@dataclass(frozen=True)
class Declaration:
    """What happens to one model's data about a user.

    ``export``: the file(s) of the export ZIP holding it, or ``""`` with the reason
    in ``note``. ``retention``: a key of privacy's retention table or a plain rule.
    ``remaining(user_id)`` counts rows still tied to the user (after erasure it must
    be 0); None where rows can only be reached through a chain.
    """

    model: str
    erase: Strategy
    export: str
    retention: str
    note: str = ""
    remaining: Callable[[int], int] | None = None


@dataclass
class ErasureContext:
    """What an erase step knows: the user's id, the user row (None once deleted) and
    the privacy request being run (typed loosely: this layer does not know privacy)."""

    user_id: int
    user: Any = None
    request: Any = None


@dataclass(frozen=True)
class EraseStep:
    """One chunked, idempotent step of an erasure.

    ``prepare(ctx, limit)`` runs outside the transaction (storage deletion) and
    returns what ``apply`` needs; ``apply(ctx, limit, prepared)`` runs inside the
    chunk's transaction and returns how many rows it changed (fewer than ``limit``
    means done). Applying twice changes nothing the second time.
    """

    model: str
    action: str
    apply: Callable[[ErasureContext, int, Any], int]
    prepare: Callable[[ErasureContext, int], Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.model}:{self.action}"


ExportRows = list[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class ExportSection:
    """One JSON file of the export: rows fetched by keyset (``after`` an id, ``limit``).

    ``rows(user_id, after, limit)`` returns ``(id, dict)`` pairs in increasing id
    order; ``files(row)`` names stored objects to copy into the ZIP next to it.
    """

    name: str
    filename: str
    description: str | StrPromise  # a lazy translation: the export's guide reads it
    rows: Callable[[int, int, int], ExportRows]
    count: Callable[[int], int]
    files: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None


# --- Helpers for declaring ------------------------------------------------------------------


def step(
    model: str,
    action: str,
    apply: Callable[[ErasureContext, int, Any], int],
    prepare: Callable[[ErasureContext, int], Any] | None = None,
) -> EraseStep:
    return EraseStep(model=model, action=action, apply=apply, prepare=prepare)


def rows_delete_step(model: type[Model], lookup: str = "user_id") -> EraseStep:
    """The common step: delete, a chunk at a time, the rows of ``model`` whose ``lookup``
    is the erased user (keyed by the model's label, as every step)."""
    return step(
        model._meta.label,
        "delete",
        lambda c, n, _: chunk_delete(model._default_manager.filter(**{lookup: c.user_id}), n),
    )


def section(
    name: str,
    description: str | StrPromise,
    rows: Callable[[int, int, int], ExportRows],
    count: Callable[[int], int],
    files: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None,
) -> ExportSection:
    """An export section written to ``<name>.json``."""
    return ExportSection(
        name=name,
        filename=f"{name}.json",
        description=description,
        rows=rows,
        count=count,
        files=files,
    )


def chunk_ids(queryset: QuerySet[Any], limit: int) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:limit])


def chunk_delete(queryset: QuerySet[Any], limit: int) -> int:
    """Delete up to ``limit`` rows of ``queryset`` (lowest ids first); how many."""
    ids = chunk_ids(queryset, limit)
    if ids:
        queryset.model._default_manager.filter(pk__in=ids).delete()
    return len(ids)


def chunk_update(queryset: QuerySet[Any], limit: int, **values: Any) -> int:
    """Update up to ``limit`` rows of ``queryset`` (lowest ids first); how many."""
    ids = chunk_ids(queryset, limit)
    if ids:
        queryset.model._default_manager.filter(pk__in=ids).update(**values)
    return len(ids)


def count_of(model: type[Model], lookup: str) -> Callable[[int], int]:
    """``remaining`` for a model with a direct link to the user."""
    return lambda uid: model._default_manager.filter(**{lookup: uid}).count()


def page(queryset: QuerySet[Any], after: int, limit: int) -> list[Any]:
    """One keyset page of model instances (ids above ``after``)."""
    return list(queryset.filter(pk__gt=after).order_by("pk")[:limit])


def plain_rows(
    queryset_for: Callable[[int], QuerySet[Any]],
    fields: list[str],
    *,
    related: tuple[str, ...] = (),
) -> Callable[[int, int, int], ExportRows]:
    """Export rows made of ``fields`` (``a__b`` follows a relation, written ``a_b``)."""

    def rows(uid: int, after: int, limit: int) -> ExportRows:
        qs = queryset_for(uid)
        if related:
            qs = qs.select_related(*related)
        return [(obj.pk, _plain(obj, fields)) for obj in page(qs, after, limit)]

    return rows


def _plain(obj: Any, fields: list[str]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name in fields:
        value: Any = obj
        for part in name.split("__"):
            value = getattr(value, part, None) if value is not None else None
        if hasattr(value, "isoformat"):
            value = iso(value)
        elif value is not None and not isinstance(value, bool | int | float | str | dict | list):
            value = str(value)
        item[name.replace("__", "_")] = value
    return item
