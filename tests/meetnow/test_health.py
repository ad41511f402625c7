"""/healthz tells a load balancer whether the database, cache and broker answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings
from django.db import connections
from rest_framework.test import APIClient

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.django_db


def test_all_up_is_200() -> None:
    response = APIClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": True, "cache": True, "broker": True},
    }


def test_unreachable_database_is_503(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = connections.settings["default"]
    if db["ENGINE"].endswith("sqlite3"):
        # A database file in a folder that does not exist cannot be opened.
        monkeypatch.setitem(db, "NAME", str(tmp_path / "missing" / "db.sqlite3"))
    else:
        monkeypatch.setitem(db, "HOST", "127.0.0.1")
        monkeypatch.setitem(db, "PORT", str(free_port()))
    response = APIClient().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] is False
    assert body["checks"]["cache"] is True
    # The request's own connection was not disturbed.
    assert connections["default"].is_usable()


def test_unreachable_broker_is_503(settings: LazySettings) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    settings.MEETNOW_HEALTH_TIMEOUT = 0.5
    response = APIClient().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "cache": True, "broker": False}
