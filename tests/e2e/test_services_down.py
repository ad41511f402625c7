"""Services that go down (issue 13), each on a throwaway instance of its own.

Real processes: uvicorn (and a Celery worker where jobs matter) against a PostgreSQL or
Redis started for the test on a free loopback port (``tests/e2e/throwaway.py``), which
the test stops and starts again. The shared services everyone's tests use are never
touched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from meetnow.models import TaskOutbox
from tests.chat.fakes import fake_fcm
from tests.conftest import require_or_skip
from tests.e2e.conftest import BIN, ROOT, database_url, serve
from tests.e2e.throwaway import copy_database, throwaway_postgres, throwaway_redis
from tests.factories.chat import make_device, make_direct, make_user
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


def _worker_with_beat(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    """A real worker with its beat (``-B``): the outbox is flushed as in production."""
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "meetnow",
            "worker",
            "-B",
            "-s",
            str(tmp_path / "beat-schedule"),
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
            f"e2e-outbox-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("worker not ready: " + log.read_text()[-2000:])
        time.sleep(0.1)
    return proc


def test_broker_down_sends_succeed_and_pushes_arrive_when_it_returns(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = str(make_direct(alice, bob).uuid)
    make_device(bob, platform="android")  # bob has no socket open: every message is pushed
    token = session_token_for(alice)
    with throwaway_redis() as broker, fake_fcm(tmp_path) as (fcm, credentials, recorded):
        env = {
            **e2e_env,
            "CELERY_BROKER_URL": broker.url(0),
            "PUSH_BACKEND": "fcm",
            "FCM_BASE_URL": fcm,
            "FCM_CREDENTIALS_FILE": str(credentials),
            "MEETNOW_OUTBOX_FLUSH_SECONDS": "1",
        }
        worker = _worker_with_beat(env, tmp_path)
        try:
            with serve(env, tmp_path / "asgi.log") as base:
                client = httpx.Client(base_url=base, headers={"X-Session-Token": token}, timeout=15)

                def send(text: str) -> int:
                    body = {"client_id": str(uuid.uuid4()), "text": text}
                    answer = client.post(
                        f"/api/v1/conversations/{conversation}/messages", json=body
                    )
                    assert answer.status_code == 201, answer.text
                    return int(answer.json()["id"])

                def pushed() -> list[int]:
                    return sorted(
                        int(r["body"]["message"]["data"]["message_id"]) for r in recorded.requests
                    )

                first = send("before")
                _until(lambda: pushed() == [first], seconds=20)

                broker.stop()
                started = time.monotonic()
                while_down = [send(f"while the broker is down {i}") for i in range(3)]
                ws_url = base.replace("http://", "ws://") + "/ws/v1/"
                with connect(ws_url, additional_headers={"X-Session-Token": token}) as ws:
                    assert json.loads(ws.recv(timeout=5))["type"] == "ready"
                    frame = {
                        "type": "message.send",
                        "conversation": conversation,
                        "client_id": str(uuid.uuid4()),
                        "text": "over the socket",
                    }
                    ws.send(json.dumps(frame))
                    while (ack := json.loads(ws.recv(timeout=10)))["type"] != "message.ack":
                        pass
                assert ack["status"] == 201
                while_down.append(int(ack["message"]["id"]))
                assert time.monotonic() - started < 10, "sends waited on the broker"
                assert TaskOutbox.objects.count() == len(while_down)
                assert pushed() == [first]

                broker.start()
                _until(lambda: pushed() == sorted([first, *while_down]), seconds=30)
                time.sleep(2)  # one more flush: nothing is sent twice
                assert pushed() == sorted([first, *while_down])
                assert TaskOutbox.objects.count() == 0
                client.close()
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
