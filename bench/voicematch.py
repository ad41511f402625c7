"""The voice-match phase of ``bench.dating`` (``--only voicematch`` runs it alone).

With ``waiting`` people in the queue (1,000 by default), ``probes`` more enter one
after another (``concurrency`` at a time); each is paired with the longest waiter.
Measured per probe: from sending ``POST /api/v1/dating/voice-match`` to **both**
sockets (the probe's and its partner's) having received ``call.accepted``; target
p99 < 100 ms. Beside it: the request alone (sent to its answer read), and the CPU per
pairing of the server, PostgreSQL and this client while the probes run (the client
waits for frames on futures and runs on uvloop when installed, so its own cost stays
under a millisecond a pairing with 1,300 sockets).

The queue never runs low: ``waiting + probes`` people enter first, so at least
``waiting`` still wait when the last probe enters. Waiters are women who want men,
probes men who want women: waiters never pair with each other, every probe fits every
waiter, so each probe's pairing reads the whole queue and checks candidates against
the database. Every waiter and probe has an open app socket (a live socket is a
condition of entering). The queue's 60 s wait is lifted for the run
(``MEETNOW_DATING_VOICE_MATCH_WAIT_SECONDS``), as the other phases lift the limits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import resource
import subprocess
import time
from collections.abc import Callable
from typing import Any

from bench.chat import Http, cpu_marks, free_port, load, pct, server_start

VM = "/api/v1/dating/voice-match"
ENV = {
    "MEETNOW_DATING_VOICE_MATCH_WAIT_SECONDS": "3600",
    "MEETNOW_THROTTLE_USER": "1000000/s",
}


def seed(*, people: int) -> list[tuple[int, str]]:
    """``people`` accounts with a profile (gender set later): (id, session token) each."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore

    from accounts.models import User
    from chat.events import event_streams_ensure

    born = dt.date(1995, 6, 1)
    rows = [
        User(nickname=f"vm{i}", password="!", date_of_birth=born)  # noqa: S106
        for i in range(people)
    ]
    users = User.objects.bulk_create(rows, batch_size=5000)
    event_streams_ensure(user_ids=[u.pk for u in users])
    tokens = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        tokens.append((user.pk, str(session.session_key)))
    return tokens


def genders_set(*, waiters: int) -> None:
    """The first ``waiters`` accounts are women, the rest men."""
    from accounts.models import User

    ids = list(User.objects.filter(nickname__startswith="vm").order_by("pk").values_list("pk"))
    cut = ids[waiters - 1][0] if waiters else 0
    User.objects.filter(nickname__startswith="vm", pk__lte=cut).update(gender="female")
    User.objects.filter(nickname__startswith="vm", pk__gt=cut).update(gender="male")


class Arrivals:
    """When each ``session:role`` frame arrived; a prober waits on a future (woken by the
    frame) rather than polling: 4 probers polling every 0.5 ms cost the client more CPU
    than the 1,300 sockets."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def record(self, key: str, at: float) -> None:
        self.at[key] = at
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(at)

    async def wait(self, keys: tuple[str, ...], timeout: float) -> float | None:
        """The last arrival of ``keys``; None if one is missing after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        futures = []
        for key in keys:
            if key in self.at:
                continue
            future: asyncio.Future[float] = loop.create_future()
            self.waiting[key] = future
            futures.append(future)
        if futures:
            _, pending = await asyncio.wait(futures, timeout=timeout)
            if pending:
                return None
        return max(self.at[k] for k in keys)


class Sock:
    """One app socket; records when a ``call.accepted`` of a voice match arrives."""

    def __init__(self, port: int, token: str, arrivals: Arrivals) -> None:
        self.port = port
        self.token = token
        self.arrivals = arrivals
        self.ws: Any = None
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            f"ws://127.0.0.1:{self.port}/ws/v1/",
            additional_headers={"X-Session-Token": self.token},
            compression=None,
            open_timeout=60,
        )
        assert json.loads(await self.ws.recv())["type"] == "ready"
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if "call.accepted" in raw and "voice_match" in raw:
                    at = time.perf_counter()
                    frame = json.loads(raw)
                    key = f"{frame['voice_match']['session']}:{frame['voice_match']['role']}"
                    self.arrivals.record(key, at)
        except Exception:  # closed at the end of the run
            return

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            await self.ws.close()


async def _open_all(socks: list[Sock], at_once: int = 50) -> None:
    for i in range(0, len(socks), at_once):
        await asyncio.gather(*(s.open() for s in socks[i : i + at_once]))


async def _enter_all(port: int, tokens: list[str], body: dict[str, Any], at_once: int) -> int:
    """Enter everyone (``at_once`` HTTP connections); the number that got a 200."""
    ok = 0
    queue = list(tokens)

    async def worker() -> None:
        nonlocal ok
        while queue:
            client = Http(port, queue.pop())
            await client.open()
            status, _ = await client.request("POST", VM, body)
            ok += status == 200
            await client.close()

    await asyncio.gather(*(worker() for _ in range(at_once)))
    return ok


async def run(
    port: int,
    tokens: list[str],
    *,
    waiting: int,
    probes: int,
    concurrency: int,
    marks: Callable[[], tuple[float, float, float]] | None = None,
) -> dict[str, Any]:
    arrivals = Arrivals()
    waiter_tokens, probe_tokens = tokens[: waiting + probes], tokens[waiting + probes :]
    socks = [Sock(port, t, arrivals) for t in tokens]
    await _open_all(socks)
    # Waiters in order of entering (the longest waiter is paired first).
    entered = await _enter_all(port, waiter_tokens, {"gender": "male"}, at_once=8)
    latencies: list[float] = []
    answers: list[float] = []  # the request alone: sent -> its answer read
    errors = waiting + probes - entered
    pending = list(probe_tokens)

    async def prober() -> None:
        nonlocal errors
        while pending:
            token = pending.pop(0)
            client = Http(port, token)
            await client.open()
            started = time.perf_counter()
            status, body = await client.request("POST", VM, {"gender": "female"})
            answered = time.perf_counter()
            await client.close()
            data = json.loads(body) if status == 200 else {}
            session = (data.get("session") or {}).get("id")
            if status != 200 or data.get("state") != "paired" or not session:
                errors += 1
                continue
            last = await arrivals.wait((f"{session}:offerer", f"{session}:answerer"), 5.0)
            if last is None:
                errors += 1
                continue
            answers.append(answered - started)
            latencies.append(last - started)

    before = marks() if marks else (0.0, 0.0, 0.0)
    started = time.perf_counter()
    await asyncio.gather(*(prober() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    after = marks() if marks else (0.0, 0.0, 0.0)
    # CPU per pairing of the measured part (server, PostgreSQL, this client).
    cpu_ms = [1000 * (b - a) / max(len(latencies), 1) for a, b in zip(before, after, strict=True)]
    for i in range(0, len(socks), 100):
        await asyncio.gather(*(s.close() for s in socks[i : i + 100]))
    return {
        "rate": len(latencies) / max(wall, 1e-9),
        "p50": pct(latencies, 50) * 1000 if latencies else 0.0,
        "p99": pct(latencies, 99) * 1000 if latencies else 0.0,
        "request_p50": pct(answers, 50) * 1000 if answers else 0.0,
        "request_p99": pct(answers, 99) * 1000 if answers else 0.0,
        "n": len(latencies),
        "errors": errors,
        "cpu_ms": cpu_ms,
    }


def queries_per_pairing(people: list[tuple[int, str]]) -> int:
    """Queries of one pairing, counted in-process on the same database (two people who
    fit, entering one after the other; the second entry is counted)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from chat.presence import FOREGROUND, presence_set

    (first_id, first), (second_id, second) = people[0], people[-1]
    for uid in (first_id, second_id):  # what their sockets would record
        presence_set(user_id=uid, state=FOREGROUND, connection="bench-count")
    Client(HTTP_X_SESSION_TOKEN=first).post(VM, {"gender": "male"}, "application/json")
    with CaptureQueriesContext(connection) as ctx:
        response = Client(HTTP_X_SESSION_TOKEN=second).post(
            VM, {"gender": "female"}, "application/json"
        )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["state"] == "paired", response.content[:300]
    return len(ctx.captured_queries)


def _loop_run(coro: Any) -> Any:
    """``asyncio.run`` on uvloop when it is installed (as uvicorn's server loop is): the
    client's 1,300 sockets then cost it less CPU on the machine it shares with the server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def phase(
    *, env: dict[str, str], workers: int, waiting: int, probes: int, concurrency: int
) -> tuple[str, dict[str, Any], str, str, tuple[float, float, float]]:
    """Seed, serve, measure; one row for bench.dating's table."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    people = waiting + 2 * probes + 2  # waiters, probes, and two for the query count
    if soft < people + 512:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, people + 4096), hard))
    seeded = seed(people=people)
    genders_set(waiters=waiting + probes)
    from accounts.models import User

    # The two counted: a woman who wants men, then a man who wants women.
    User.objects.filter(pk=seeded[-2][0]).update(gender="female")
    queries = queries_per_pairing(seeded[-2:])
    tokens = [token for _, token in seeded[:-2]]
    port = free_port()
    proc = server_start(port, workers, {**env, **ENV})
    try:
        before = load()
        mark = cpu_marks(proc.pid)
        result = _loop_run(
            run(
                port,
                tokens,
                waiting=waiting,
                probes=probes,
                concurrency=concurrency,
                marks=lambda: cpu_marks(proc.pid),
            )
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    name = f"voice match: pair with {waiting:,} waiting ({concurrency} at once)"
    return name, result, str(queries), before, mark
