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
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connection
from websockets.exceptions import ConnectionClosed, InvalidStatus
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


def _ready_socket(stack: ExitStack, url: str, token: str, seconds: float = 15) -> Any:
    """Connect (again and again while the server can't take it yet) until ``ready``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            ws = stack.enter_context(
                connect(url, additional_headers={"X-Session-Token": token}, open_timeout=5)
            )
            if json.loads(ws.recv(timeout=5))["type"] == "ready":
                return ws
            ws.close()
        except (OSError, InvalidStatus, ConnectionClosed, TimeoutError):
            pass
        assert time.monotonic() < deadline, "the socket could not connect again"
        time.sleep(0.3)


def _created(ws: Any, seconds: float) -> list[int]:
    """The message ids of the ``message.created`` events the socket gets within ``seconds``."""
    ids: list[int] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        if frame["type"] == "message.created":
            ids.append(int(frame["message_id"]))
    return ids


def _close_code(ws: Any, seconds: float) -> int | None:
    """The code the server closes the socket with within ``seconds`` (None: still open)."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            ws.recv(timeout=left)
    except TimeoutError:
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    return None


def test_redis_restart_sockets_resync_and_nothing_is_lost(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    conversation = str(make_direct(alice, bob).uuid)
    alice_token, bob_token = session_token_for(alice), session_token_for(bob)
    with throwaway_redis() as redis, ExitStack() as sockets:
        # Cache, presence and the channel layer on a Redis of this test's own.
        env = {**e2e_env, "REDIS_URL": redis.url(0)}
        with serve(env, tmp_path / "asgi.log") as base:
            alice_http = httpx.Client(
                base_url=base, headers={"X-Session-Token": alice_token}, timeout=15
            )
            bob_http = httpx.Client(
                base_url=base, headers={"X-Session-Token": bob_token}, timeout=15
            )
            ws_url = base.replace("http://", "ws://") + "/ws/v1/"

            def send(text: str) -> httpx.Response:
                body = {"client_id": str(uuid.uuid4()), "text": text}
                return alice_http.post(f"/api/v1/conversations/{conversation}/messages", json=body)

            cursor = bob_http.get("/api/v1/sync").json()["cursor"]
            ws = _ready_socket(sockets, ws_url, bob_token)
            first = send("before").json()["id"]
            assert _created(ws, 5)[:1] == [first]

            redis.stop()
            down = send("while Redis is down")
            assert down.status_code == 503, down.text
            assert down.json()["errors"][0]["code"] == "service_unavailable"
            redis.start()
            # Sent as soon as the server can take it again: its event may be published
            # before the server's subscriber is back.
            deadline = time.monotonic() + 15
            while (after := send("right after the restart")).status_code != 201:
                assert time.monotonic() < deadline, after.text
                time.sleep(0.2)
            second = after.json()["id"]

            # The open socket is told it may have missed something: closed with 1012.
            assert _close_code(ws, 15) == 1012
            # The app reconnects and catches up through sync: nothing is lost.
            ws = _ready_socket(sockets, ws_url, bob_token)
            events = bob_http.get("/api/v1/sync", params={"since": cursor}).json()["events"]
            got = [e["message_id"] for e in events if e["type"] == "message.created"]
            assert got == [first, second]
            # And the server, never restarted, delivers live again.
            third = send("after").json()["id"]
            assert _created(ws, 10)[:1] == [third]
            ws.close()
            alice_http.close()
            bob_http.close()
