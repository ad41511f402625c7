"""Reachability checks of the services MeetNow needs: database, cache, broker."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from kombu import Connection


def check_database() -> None:
    """Open a fresh connection (never the request's own) and run a query."""
    for alias in connections:
        wrapper = connections.create_connection(alias)
        wrapper.settings_dict = copy.deepcopy(wrapper.settings_dict)
        # A direct connection: a pooled one could be an old, still-open socket.
        wrapper.settings_dict.get("OPTIONS", {}).pop("pool", None)
        try:
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        finally:
            wrapper.close()


def check_cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache = caches["default"]
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value it was given")
    cache.delete(key)


def check_broker() -> None:
    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=settings.MEETNOW_HEALTH_TIMEOUT,
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.MEETNOW_HEALTH_TIMEOUT)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def health_report() -> dict[str, bool]:
    """Each service's name mapped to whether it answered."""
    report: dict[str, bool] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            report[name] = False
        else:
            report[name] = True
    return report
