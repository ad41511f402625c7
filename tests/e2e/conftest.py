"""Cross-process fixtures: a real Celery worker and a real ASGI server on 127.0.0.1.

Both child processes use the test database (a SQLite file locally, PostgreSQL in CI)
and the test process's broker, so what a test writes they see, and the reverse.
Every e2e test runs in one xdist group (``pytest.mark.xdist_group("e2e")``, added by
``tests/conftest.py``), so two workers never share a queue.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools

from meetnow.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def database_url() -> str:
    """The URL of the test database this process is using."""
    s: dict[str, Any] = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    user = s.get("USER") or "postgres"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def e2e_env(
    transactional_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Environment for child processes, sharing this test's database and broker.

    With the embedded (filesystem) broker both sides use a fresh folder of this
    test; with Redis the queues are purged first.
    """
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    # The server and worker share this test's cache namespace (tests/conftest.py's
    # _isolated_cache), so presence and once-only keys never leak between e2e tests.
    env["CACHE_KEY_PREFIX"] = settings.CACHES["default"].get("KEY_PREFIX", "")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = tmp_path / "celery"
        options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        for key, sub in (
            ("data_folder_in", "queue"),
            ("data_folder_out", "queue"),
            ("processed_folder", "processed"),
            ("control_folder", "control"),
        ):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            options[key] = str(folder / sub)
        env["MEETNOW_CELERY_DIR"] = str(folder)
        monkeypatch.setitem(celery_app.conf, "broker_transport_options", options)
    _reset_broker_pool()
    celery_app.control.purge()
    return env


def _reset_broker_pool() -> None:
    """Drop pooled broker connections so the next send uses the current options."""
    # kombu keeps one pool per broker URL for the whole process; closing it in place
    # would leave a closed pool registered, so clear the registry instead.
    pools.reset()
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def celery_worker(e2e_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``celery worker`` process consuming every MeetNow queue."""
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "meetnow",
            "worker",
            "-Q",
            ",".join(settings.CELERY_QUEUES_ALL),
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            "--hostname",
            f"e2e-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=e2e_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if b"ready." in (tmp_path / "worker.log").read_bytes():
            break
        if proc.poll() is not None:
            pytest.fail("worker exited: " + (tmp_path / "worker.log").read_text()[-2000:])
        time.sleep(0.1)
    else:
        _stop(proc)
        pytest.fail("worker not ready in 30 s: " + (tmp_path / "worker.log").read_text()[-2000:])
    try:
        yield proc
    finally:
        _stop(proc)
        _reset_broker_pool()
        log.close()


@contextlib.contextmanager
def serve(
    env: dict[str, str], log_path: Path, *, workers: int = 1, options: tuple[str, ...] = ()
) -> Iterator[str]:
    """A real uvicorn serving ``meetnow.asgi`` on a free loopback port; yields its base URL.

    ``workers`` > 1 runs that many processes (real concurrency against the database);
    ``options`` are more of uvicorn's command-line options.
    """
    port = free_port()
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "meetnow.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *(["--workers", str(workers)] if workers > 1 else []),
            *options,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("ASGI server exited: " + log_path.read_text()[-2000:])
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        _stop(proc)
        pytest.fail("ASGI server not up in 30 s: " + log_path.read_text()[-2000:])
    try:
        yield base
    finally:
        _stop(proc)
        log.close()


@pytest.fixture
def asgi_server(e2e_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A real uvicorn serving ``meetnow.asgi`` on a free loopback port; yields its base URL."""
    with serve(e2e_env, tmp_path / "asgi.log") as base:
        yield base
