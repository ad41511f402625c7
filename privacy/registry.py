"""The personal-data registry (DESIGN.md): for every model that holds data about a user,
how it is exported, erased and kept.

Each app declares its own models in ``<app>/personal_data.py`` (module-level lists
``declarations``, ``erase_steps`` and ``export_sections`` of the types in
:mod:`meetnow.lib.personal_data`), calling its own services; no app imports
``privacy``. The registry finds those modules through the app registry (the way
the admin finds ``admin.py``). Erase steps run app by app from the top layer down
(``INSTALLED_APPS`` lists MeetNow's apps bottom layer first), so rows of a higher
app that point at a lower app's rows go first; deleting the account row itself is
always the last step. Export sections start with the account's app, then follow
the layers bottom up. ``tests/privacy/test_registry.py`` walks every installed model that
references the user model, directly or through a chain, and fails for an
undeclared one, so a new model can't escape export or erasure.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.module_loading import module_has_submodule

from meetnow.lib.personal_data import (
    Declaration,
    EraseStep,
    ErasureContext,
    ExportSection,
    Strategy,
)

__all__ = [
    "FINAL_STEP",
    "Declaration",
    "EraseStep",
    "ErasureContext",
    "ExportSection",
    "Registry",
    "Strategy",
    "get_registry",
    "models_referencing_user",
    "personal_data_modules",
]

MODULE = "personal_data"
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


def personal_data_modules() -> list[tuple[str, ModuleType]]:
    """``(app label, module)`` of every installed app with a ``personal_data`` module,
    in ``INSTALLED_APPS`` order (MeetNow's apps: bottom layer first)."""
    return [
        (config.label, import_module(f"{config.name}.{MODULE}"))
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, MODULE)
    ]


def registry_build(modules: Iterable[tuple[str, ModuleType]]) -> Registry:
    """A registry of ``modules`` (bottom layer first): declarations in that order,
    export sections too but the account's app first, erase steps from the top down."""
    modules = list(modules)
    built = Registry()
    for _label, module in modules:
        built.declare(*_list(module, "declarations"))
    # The export opens with the account (the user model's app), then bottom up.
    account_app = settings.AUTH_USER_MODEL.split(".")[0]
    for _label, module in sorted(modules, key=lambda item: item[0] != account_app):
        built.section(*_list(module, "export_sections"))
    for _label, module in reversed(modules):
        built.step(*_list(module, "erase_steps"))
    return built


def _list(module: ModuleType, name: str) -> list[Any]:
    value = getattr(module, name, [])
    if not isinstance(value, list | tuple):
        raise TypeError(f"{module.__name__}.{name} must be a list")
    return list(value)


@functools.cache
def get_registry() -> Registry:
    """The registry with every app's declarations loaded (built once per process)."""
    return registry_build(personal_data_modules())


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
