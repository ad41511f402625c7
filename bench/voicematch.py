"""The voice-match phase of ``bench.dating`` (``--only voicematch`` runs it alone).

With ``waiting`` people in the queue (1,000 by default), new people enter and each is
paired with the longest waiter. Measured per entrant: from entering (sending ``POST
/api/v1/dating/voice-match``) to **both** sockets (the entrant's and the partner's)
having received ``call.accepted``; target p99 < 100 ms. Beside it: the request alone
(to its answer read) and the CPU per pairing of the server, PostgreSQL and this client.

Two kinds of phase, ``probes`` entrants each, after a warm-up of ``WARM`` pairings:

- **paced** (open loop), one per ``--vm-rate``: entrants arrive as a Poisson process at
  that rate whatever the server answers (fixed seed), each sending at its due time and
  timed from it. Below capacity an entrant rarely waits for another, so this is the
  latency a person sees at that arrival rate; the achieved rate is printed beside it.
- **saturated** (closed loop): ``concurrency`` entrants back to back, the next entering
  as soon as one is paired. The server never idles: its pairs/s is the capacity, and
  the latency is mostly queueing (Little's law: about ``concurrency / capacity``).

The queue never runs low: ``waiting`` plus every entrant of every phase enter first, so
at least ``waiting`` still wait when the last entrant enters. Waiters are women who
want men, entrants men who want women: waiters never pair with each other, every
entrant fits every waiter, so each pairing reads the queue and checks candidates
against the database. Every waiter and entrant has an open app socket (a live socket
is a condition of entering; an entrant's is opened before its phase). The client waits
for frames on futures and runs on uvloop when installed; before each phase it freezes
what it holds out of its garbage collector's reach (``GcPauses``). The queue's 60 s wait is
lifted for the run (``MEETNOW_DATING_VOICE_MATCH_WAIT_SECONDS``), as the other phases
lift the limits. Everything on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import os
import random
import resource
import subprocess
import time
from collections.abc import Callable
from typing import Any

import bench.chat
from bench.chat import Http, cpu_marks, free_port, pct, server_start

VM = "/api/v1/dating/voice-match"
ENV = {
    "MEETNOW_DATING_VOICE_MATCH_WAIT_SECONDS": "3600",
    "MEETNOW_THROTTLE_USER": "1000000/s",
}
WARM = 12  # pairings before the measured phases (not counted)
CONNECT_LEAD = 0.05  # s: a paced entrant opens its connection this long before it is due
REQUEST_TIMEOUT = 30.0  # s: an answer later than this counts as an error
FRAME_TIMEOUT = 5.0  # s: both call.accepted frames after the answer, or an error

Marks = tuple[float, float, float]  # CPU seconds so far: server, PostgreSQL, this client


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


class GcPauses:
    """The longest pause of this client's cyclic garbage collector since :meth:`reset`.

    The client holds ~2,500-3,400 sockets and the seeded accounts in one process: a full
    collection of all that stopped its loop for 56-183 ms (measured while it set up,
    2026-12-06), and a frame read after such a pause would be counted as the server's
    latency. So before each phase the client collects and freezes what it holds
    (``gc.freeze``: later collections skip it), and it prints its longest collection
    during the phase beside the figures (wall time: on a busy machine it includes being
    descheduled), so that what the figures measure is the server."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._started)

    def reset(self) -> None:
        """Collect and freeze what the client holds now; start counting again."""
        gc.collect()
        gc.freeze()
        self.longest = 0.0

    def close(self) -> None:
        gc.callbacks.remove(self._callback)
        gc.unfreeze()


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
            client = Http(port, queue.pop(0))
            await client.open()
            status, _ = await client.request("POST", VM, body)
            ok += status == 200
            await client.close()

    await asyncio.gather(*(worker() for _ in range(at_once)))
    return ok


async def _enter_probe(
    client: Http, arrivals: Arrivals, since: float
) -> tuple[float, float] | None:
    """One man who wants women enters (on ``client``, already open) and is paired: the
    time from ``since`` (perf_counter) to both sockets having ``call.accepted``, and to
    the HTTP answer; None if he was not paired with both frames within the timeouts."""
    try:
        status, body = await asyncio.wait_for(
            client.request("POST", VM, {"gender": "female"}), REQUEST_TIMEOUT
        )
    except (TimeoutError, OSError, asyncio.IncompleteReadError):
        return None
    answered = time.perf_counter()
    data = json.loads(body) if status == 200 else {}
    session = (data.get("session") or {}).get("id")
    if status != 200 or data.get("state") != "paired" or not session:
        return None
    last = await arrivals.wait((f"{session}:offerer", f"{session}:answerer"), FRAME_TIMEOUT)
    if last is None:
        return None
    return last - since, answered - since


def _row(
    latencies: list[float],
    answers: list[float],
    *,
    errors: int,
    rate: float,
    cpu: tuple[Marks, Marks],
) -> dict[str, Any]:
    """A phase's figures. CPU per pairing: what the server, PostgreSQL and this client
    used during the phase (``cpu``: marks before and after) over the pairings. It
    includes what runs beside the pairings meanwhile (the sockets' heartbeats: one
    session check per socket every 25 s, in bursts, as the sockets opened together),
    so a paced phase, which lasts longer, counts more of it per pairing; subtracting
    an idle sample was tried and was noisier than the figure (the bursts)."""
    before, after = cpu
    cpu_ms = [1000 * (b - a) / max(len(latencies), 1) for a, b in zip(before, after, strict=True)]
    return {
        "rate": rate,
        "p50": pct(latencies, 50) * 1000 if latencies else 0.0,
        "p99": pct(latencies, 99) * 1000 if latencies else 0.0,
        "request_p50": pct(answers, 50) * 1000 if answers else 0.0,
        "request_p99": pct(answers, 99) * 1000 if answers else 0.0,
        "n": len(latencies),
        "errors": errors,
        "cpu_ms": cpu_ms,
    }


async def paced(
    port: int,
    tokens: list[str],
    arrivals: Arrivals,
    *,
    rate: float,
    seed: int,
    marks: Callable[[], Marks],
) -> dict[str, Any]:
    """Open loop: the entrants arrive as a Poisson process of ``rate`` per second (gaps
    drawn from a fixed seed), whatever the server's answers. Each opens its connection
    just before it is due and sends at its due time; its latency counts from that due
    time, so an entrant the client itself sent late is not flattered. ``offered`` is
    ``rate``; ``rate`` in the result is the achieved one (entrants over the time from
    the first send to the last)."""
    rng = random.Random(seed)
    start = time.perf_counter() + 0.5
    dues = []
    for _ in tokens:
        dues.append(start)
        start += rng.expovariate(rate)
    latencies: list[float] = []
    answers: list[float] = []
    lags: list[float] = []
    sent: list[float] = []
    errors = 0

    async def one(token: str, due: float) -> None:
        nonlocal errors
        await asyncio.sleep(max(0.0, due - CONNECT_LEAD - time.perf_counter()))
        client = Http(port, token)
        await client.open()
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        now = time.perf_counter()
        sent.append(now)
        lags.append(now - due)
        try:
            got = await _enter_probe(client, arrivals, due)
        finally:
            await client.close()
        if got is None:
            errors += 1
            return
        latencies.append(got[0])
        answers.append(got[1])

    before = marks()
    await asyncio.gather(*(one(token, due) for token, due in zip(tokens, dues, strict=True)))
    after = marks()
    span = max(sent) - min(sent) if len(sent) > 1 else 0.0
    achieved = (len(sent) - 1) / span if span > 0 else 0.0
    row = _row(latencies, answers, errors=errors, rate=achieved, cpu=(before, after))
    row["offered"] = rate
    row["lag_p99"] = pct(lags, 99) * 1000 if lags else 0.0
    return row


async def saturated(
    port: int,
    tokens: list[str],
    arrivals: Arrivals,
    *,
    concurrency: int,
    marks: Callable[[], Marks],
) -> dict[str, Any]:
    """Closed loop: ``concurrency`` entrants at once, each next one entering when one
    is paired. The server is never idle, so ``rate`` is its capacity (pairs/s) and the
    latency is mostly queueing: by Little's law about ``concurrency / rate``."""
    latencies: list[float] = []
    answers: list[float] = []
    errors = 0
    pending = list(tokens)

    async def prober() -> None:
        nonlocal errors
        while pending:
            client = Http(port, pending.pop(0))
            await client.open()
            try:
                got = await _enter_probe(client, arrivals, time.perf_counter())
            finally:
                await client.close()
            if got is None:
                errors += 1
                continue
            latencies.append(got[0])
            answers.append(got[1])

    before = marks()
    started = time.perf_counter()
    await asyncio.gather(*(prober() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    after = marks()
    rate = len(latencies) / max(wall, 1e-9)
    return _row(latencies, answers, errors=errors, rate=rate, cpu=(before, after))


async def _quiet() -> str:
    """``bench.chat.load`` without blocking the loop (the sockets keep being read)."""
    deadline = time.monotonic() + bench.chat.QUIET_WAIT
    while os.getloadavg()[0] > 1.0 and time.monotonic() < deadline:
        await asyncio.sleep(2)
    return f"{os.getloadavg()[0]:.1f}"


async def run(
    port: int,
    tokens: list[str],
    *,
    waiting: int,
    probes: int,
    rates: list[float],
    concurrency: int,
    marks: Callable[[], Marks],
) -> list[dict[str, Any]]:
    """Enter the waiters, warm up, then one paced phase per rate and the saturated
    phase, each with ``probes`` new entrants (their sockets opened just before it)."""
    arrivals = Arrivals()
    entrants = WARM + probes * (len(rates) + 1)
    waiter_tokens, probe_tokens = tokens[: waiting + entrants], tokens[waiting + entrants :]
    assert len(probe_tokens) == entrants, (len(tokens), waiting, entrants)
    socks = [Sock(port, t, arrivals) for t in waiter_tokens]
    await _open_all(socks)
    # Waiters in order of entering (the longest waiter is paired first).
    entered = await _enter_all(port, waiter_tokens, {"gender": "male"}, at_once=8)
    if entered != len(waiter_tokens):
        raise SystemExit(f"voice match: {len(waiter_tokens) - entered} waiters not entered")
    rows: list[dict[str, Any]] = []
    pauses = GcPauses()
    try:
        groups = [probe_tokens[:WARM]] + [
            probe_tokens[WARM + i * probes : WARM + (i + 1) * probes] for i in range(len(rates) + 1)
        ]
        # Warm-up (not measured): every worker's connections, compiled queries, scripts.
        warm = [Sock(port, t, arrivals) for t in groups[0]]
        await _open_all(warm)
        socks += warm
        await saturated(port, groups[0], arrivals, concurrency=1, marks=marks)
        for i, group in enumerate(groups[1:]):
            phase_socks = [Sock(port, t, arrivals) for t in group]
            await _open_all(phase_socks)
            socks += phase_socks
            load_before = await _quiet()
            pauses.reset()
            if i < len(rates):
                row = await paced(port, group, arrivals, rate=rates[i], seed=15 + i, marks=marks)
            else:
                row = await saturated(port, group, arrivals, concurrency=concurrency, marks=marks)
            row["client_gc_ms"] = pauses.longest * 1000
            row["load"] = load_before
            row["load_after"] = f"{os.getloadavg()[0]:.1f}"
            row["sockets"] = len(socks)
            rows.append(row)
    finally:
        pauses.close()
        for i in range(0, len(socks), 100):
            await asyncio.gather(*(s.close() for s in socks[i : i + 100]))
    return rows


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
    *,
    env: dict[str, str],
    workers: int,
    waiting: int,
    probes: int,
    rates: list[float],
    concurrency: int,
) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """Seed, serve, measure: a row per paced rate and the saturated row (name, result)
    for bench.dating's table, and the queries of one pairing."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    entrants = WARM + probes * (len(rates) + 1)
    people = waiting + 2 * entrants + 2  # waiters, entrants, and two for the query count
    if soft < people + 512:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, people + 4096), hard))
    seeded = seed(people=people)
    genders_set(waiters=waiting + entrants)
    from accounts.models import User

    # The two counted: a woman who wants men, then a man who wants women.
    User.objects.filter(pk=seeded[-2][0]).update(gender="female")
    queries = queries_per_pairing(seeded[-2:])
    tokens = [token for _, token in seeded[:-2]]
    port = free_port()
    proc = server_start(port, workers, {**env, **ENV})
    try:
        results = _loop_run(
            run(
                port,
                tokens,
                waiting=waiting,
                probes=probes,
                rates=rates,
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
    names = [f"paced, {rate:g}/s arriving (Poisson)" for rate in rates]
    names.append(f"saturated, {concurrency} entering back to back")
    return list(zip(names, results, strict=True)), str(queries)
