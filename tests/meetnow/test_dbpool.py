"""The pool's connection check (meetnow/lib/postgresql): free while a connection is
healthy, and a connection the server ended is never handed out (issue 13)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

from meetnow.lib.postgresql.base import connection_check
from tests.conftest import require_or_skip


@pytest.fixture
def raw() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    require_or_skip(connection.vendor == "postgresql", "the check is PostgreSQL's")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    conn = psycopg.connect(**params, autocommit=True)
    yield conn
    conn.close()


def _last_query(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def _wait_gone(pid: int) -> None:
    """Until the backend has left (pg_terminate_backend only signals it; a connection
    that never ran a query shows an empty query, so wait for the row itself)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() is None:
                return
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} still there")


@pytest.mark.django_db
def test_a_healthy_connection_is_checked_without_a_round_trip(
    raw: psycopg.Connection[tuple[object, ...]],
) -> None:
    raw.execute("SELECT 42")
    pid = raw.info.backend_pid
    connection_check(raw)
    connection_check(raw)
    assert _last_query(pid) == "SELECT 42"  # the server saw nothing new
    assert raw.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_fails_the_check(
    raw: psycopg.Connection[tuple[object, ...]],
) -> None:
    pid = raw.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_gone(pid)
    with pytest.raises(psycopg.OperationalError):
        connection_check(raw)


@pytest.mark.django_db(transaction=True)
def test_the_pool_hands_out_a_fresh_connection_after_the_server_ended_one() -> None:
    require_or_skip(connection.vendor == "postgresql", "the pool is PostgreSQL's")
    pool = connection.pool  # type: ignore[attr-defined]  # PostgreSQL's wrapper only
    assert pool is not None
    with pool.connection() as conn:
        pid = conn.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_gone(pid)
    for _ in range(pool.get_stats()["pool_size"] + 1):  # every pooled one, then one more
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
