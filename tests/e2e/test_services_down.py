"""Services that go down (issue 13), each on a throwaway instance of its own.

Real processes: uvicorn (and a Celery worker where jobs matter) against a PostgreSQL or
Redis started for the test on a free loopback port (``tests/e2e/throwaway.py``), which
the test stops and starts again. The shared services everyone's tests use are never
touched.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from django.db import connection

from tests.conftest import require_or_skip
from tests.e2e.conftest import database_url, serve
from tests.e2e.throwaway import copy_database, throwaway_postgres
from tests.factories.chat import make_user
from tests.helpers import session_token_for


def _until(check: object, seconds: float = 15) -> None:
    """Poll ``check`` (a callable returning bool) until it is true; bounded."""
    assert callable(check)
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.2)


def test_postgres_restart_healthz_says_503_and_requests_recover(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    require_or_skip(connection.vendor == "postgresql", "this test copies a PostgreSQL database")
    user = make_user("steady")
    token = session_token_for(user)
    with throwaway_postgres() as pg:
        copy_database(database_url(), pg, "meetnow_down")
        env = {**e2e_env, "DATABASE_URL": pg.url("meetnow_down")}
        with serve(env, tmp_path / "asgi.log") as base:
            client = httpx.Client(base_url=base, headers={"X-Session-Token": token}, timeout=15)
            assert client.get("/healthz").status_code == 200
            assert client.get("/api/v1/me").json()["id"] == str(user.uuid)

            pg.stop()
            down = client.get("/healthz")
            assert down.status_code == 503
            assert down.json()["checks"]["database"] is False
            me = client.get("/api/v1/me")
            assert me.status_code == 503
            assert me.json()["errors"][0]["code"] == "service_unavailable"
            assert me.headers["Retry-After"] == "5"

            pg.start()
            _until(lambda: client.get("/healthz").status_code == 200)
            answers = [client.get("/api/v1/me").status_code for _ in range(30)]
            assert answers == [200] * 30
            client.close()
