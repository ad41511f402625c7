"""Suite-wide fixtures: uploads to a temp folder, eager-free Celery, real services under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import LazySettings

from meetnow.celery import app as celery_app

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _media_root(settings: LazySettings, tmp_path: Path) -> None:
    """Every test writes uploaded files to its own folder (cookiecutter-django's habit)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    storages = dict(settings.STORAGES)
    if storages["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
        storages["default"] = {**storages["default"], "OPTIONS": {"location": str(root)}}
        settings.STORAGES = storages


@pytest.fixture(autouse=True)
def _celery_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never talk to a broker: a task enqueued on commit runs in-process.

    Tests see what gets enqueued with ``django_capture_on_commit_callbacks`` and
    call services directly; tests/e2e use a real worker instead.
    """
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", True)


def require_or_skip(available: bool, reason: str) -> None:
    """Skip outside CI when a system tool is missing; under CI a missing tool fails."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_cache(settings: LazySettings) -> None:
    """Each test gets its own cache namespace (throttles, sessions, presence).

    Under CI the cache is a Redis shared by the xdist workers, so clearing it would
    hit the neighbours' tests; a fresh key prefix isolates without clearing.
    """
    import uuid

    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    for conf in caches.values():
        conf["KEY_PREFIX"] = f"t{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
