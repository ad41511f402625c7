"""The personal-data registry (DESIGN.md): for every model that holds data about a user,
how it is exported, erased and kept.

Declarations live in :mod:`privacy.handlers` and call the owning apps' services or
models; no app imports ``privacy``. ``tests/privacy/test_registry.py`` walks every
installed model that references the user model, directly or through a chain, and
fails for an undeclared one, so a new model can't escape export or erasure.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models


class Strategy(enum.StrEnum):
    DELETE = "delete"  # rows removed
    TOMBSTONE = "tombstone"  # row kept for others' history, content and link removed
    PSEUDONYMISE = "pseudonymise"  # row kept, every field identifying the user cleared
    KEEP = "keep"  # holds no personal value of the user (reason in ``note``)


@dataclass(frozen=True)
class Declaration:
    """What happens to one model's data about a user.

    ``export``: the file(s) of the export ZIP holding it, or ``""`` with the reason
    in ``note``. ``retention``: a key of :data:`privacy.retention.RETENTION` or a
    plain rule. ``remaining(user_id)`` counts rows still tied to the user (after
    erasure it must be 0); None where rows can only be reached through a chain.
    """

    model: str
    erase: Strategy
    export: str
    retention: str
    note: str = ""
    remaining: Callable[[int], int] | None = None


@dataclass(frozen=True)
class EraseStep:
    """One chunked, idempotent step of an erasure.

    ``prepare(ctx, limit)`` runs outside the transaction (storage deletion) and
    returns what ``apply`` needs; ``apply(ctx, limit, prepared)`` runs inside the
    chunk's transaction and returns how many rows it changed (0 means done).
    Applying twice changes nothing the second time.
    """

    model: str
    action: str
    apply: Callable[[Any, int, Any], int]
    prepare: Callable[[Any, int], Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.model}:{self.action}"


@dataclass(frozen=True)
class ExportSection:
    """One JSON file of the export: rows fetched by keyset (``after`` an id, ``limit``).

    ``rows(user_id, after, limit)`` returns ``(id, dict)`` pairs in increasing id
    order; ``files(row)`` names stored objects to copy into the ZIP next to it.
    """

    name: str
    filename: str
    description: str
    rows: Callable[[int, int, int], list[tuple[int, dict[str, Any]]]]
    count: Callable[[int], int]
    files: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None


FINAL_STEP = "accounts.User:delete"


@dataclass
class Registry:
    declarations: dict[str, Declaration] = field(default_factory=dict)
    erase_steps: list[EraseStep] = field(default_factory=list)
    export_sections: list[ExportSection] = field(default_factory=list)

    def declare(self, *declarations: Declaration) -> None:
        for declaration in declarations:
            if declaration.model in self.declarations:
                raise ValueError(f"{declaration.model} is declared twice")
            self.declarations[declaration.model] = declaration

    def step(self, *steps: EraseStep) -> None:
        """Add erase steps; deleting the account row itself always stays the last step."""
        final = [s for s in self.erase_steps if s.key == FINAL_STEP]
        rest = [s for s in self.erase_steps if s.key != FINAL_STEP]
        added = [s for s in steps if s.key != FINAL_STEP]
        final += [s for s in steps if s.key == FINAL_STEP]
        self.erase_steps[:] = rest + added + final[:1]

    def section(self, *sections: ExportSection) -> None:
        self.export_sections.extend(sections)


registry = Registry()


def get_registry() -> Registry:
    """The registry with every declaration loaded."""
    import privacy.handlers  # noqa: F401  (declares on import)

    return registry


def models_referencing_user() -> dict[str, list[str]]:
    """Every installed model that references the user, directly or through a chain.

    Maps a model label to the path that reaches the user (for error messages).
    Auto-created many-to-many tables count too.
    """
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    all_models = list(apps.get_models(include_auto_created=True))
    reach: dict[type[models.Model], list[str]] = {user_model: [user_model._meta.label]}
    changed = True
    while changed:
        changed = False
        for model in all_models:
            if model in reach:
                continue
            for f in _relations(model):
                target = f.related_model
                if isinstance(target, type) and target in reach:
                    reach[model] = [f"{model._meta.label}.{f.name}", *reach[target]]
                    changed = True
                    break
    return {m._meta.label: path for m, path in reach.items() if m is not user_model}


def _relations(model: type[models.Model]) -> Iterable[Any]:
    for f in model._meta.get_fields(include_hidden=True):
        if f.is_relation and f.concrete and f.related_model is not None:
            yield f
