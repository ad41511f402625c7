"""Chat benchmark on the real stack: PostgreSQL, Redis, uvicorn (>= 2 workers), loopback.

``python -m bench.chat`` (or ``make bench``) prints one table:

- message sends per second and p50/p99 latency, 1 sender and N concurrent senders,
  over HTTP and over the WebSocket (``message.send``, waiting for each ack);
- history page (50 messages) latency in a conversation of 1,000,000 messages
  (latest page and pages at random depths);
- conversation list latency for a user with 1,000 conversations;
- WebSocket delivery latency, from the start of the send request to the
  recipient's socket receiving ``message.created`` (p50/p99);
- queries per request for each (counted in-process on the same database).

**The per-user send limit is lifted** for the run (``MEETNOW_THROTTLE_CHAT_SEND``
and ``MEETNOW_THROTTLE_USER`` set to a million per second): otherwise the benchmark
measures the limiter (research/chat.md, pitfall 1). It stays on in production.
Recipients are marked present (live socket, app in the foreground) so no push task
is enqueued, as in a live conversation.

Everything runs on 127.0.0.1 in a throwaway database (``bench_chat``, dropped and
recreated) and Redis database 2 (flushed). Every loop is bounded. The machine load
(1-minute load average) is printed per phase: other processes sharing the cores
make the figures worse, never better.

Options: ``--quick`` (100k messages, 200 conversations, fewer requests), ``--workers``
(default 3 on this 2-core machine: one process per core plus one, so that a core is
not idle while a process waits on PostgreSQL; each runs ``MEETNOW_HTTP_THREADS``
threads), ``--senders N`` (concurrent senders, default 32), ``--transport http|ws``
(``ws``: each sender sends ``message.send`` frames on its WebSocket and waits for the
ack, as the app does; ``http``: ``POST /messages`` on a keep-alive connection),
``--room`` (all senders in one group conversation, as the Synapse peer benchmark's
room; default: one 1:1 conversation per sender), ``--database NAME`` (default
``bench_chat``), ``--redis URL`` (default Redis database 2), ``--only
send|history|list|delivery|inproc`` (run just those phases, repeatable; default all;
without ``history`` the long conversation has 1,000 messages, not a million, so the
setup takes seconds). ``inproc``: ``message.send`` frames handled in the benchmark's
own process by the socket's frame handler (``chat.ws_send.message_send_frame``, as
its worker thread runs it, on the same PostgreSQL and Redis), 1 sender: the CPU of
the send path alone, without the event loop, the socket and the other members'
deliveries, measured with ``time.process_time`` (so it does not count what other
processes on the machine use). The server's channel
layer uses the key prefix ``bench_<database>`` (``REDIS_PREFIX``), so the run never
sees another deployment's groups on a shared Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "bench_chat"  # --database
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/2")  # --redis
CHILD = "MEETNOW_BENCH_CHAT_CHILD"

SERVER_ENV = {
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "REDIS_URL": REDIS,
    "REDIS_PREFIX": f"bench_{DB_NAME}",
    "CELERY_BROKER_URL": REDIS.rsplit("/", 1)[0] + "/3",
    "DJANGO_DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    # Lifted for the benchmark (see the docstring); production keeps its limits.
    "MEETNOW_THROTTLE_CHAT_SEND": "1000000/s",
    "MEETNOW_THROTTLE_USER": "1000000/s",
    "MEETNOW_CHAT_PRESENCE_TTL_SECONDS": "3600",
    "DATABASE_POOL_MIN_SIZE": "4",
    "DATABASE_POOL_MAX_SIZE": "24",
    "DJANGO_SETTINGS_MODULE": "meetnow.settings",
}


# --- A minimal keep-alive HTTP/1.1 client (cheap on CPU, so the server gets the cores) ---


class Http:
    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        assert self.reader is not None
        assert self.writer is not None
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"X-Session-Token: {self.token}\r\nAccept: application/json\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload


def configure(*, database: str, redis_url: str) -> None:
    """Point the run at ``database`` and ``redis_url`` (--database, --redis)."""
    global DB_NAME, REDIS
    if not database.replace("_", "").isalnum():
        raise SystemExit("--database: letters, digits and _ only")
    DB_NAME, REDIS = database, redis_url
    SERVER_ENV.update(
        {
            "DATABASE_URL": f"{PG}/{DB_NAME}",
            "REDIS_URL": REDIS,
            "REDIS_PREFIX": f"bench_{DB_NAME}",
            "CELERY_BROKER_URL": _next_db(REDIS),
        }
    )


def _next_db(url: str) -> str:
    """The broker: the Redis database after ``url``'s (2 -> 3)."""
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db) + 1}" if db.isdigit() else url


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(latencies: list[float], seconds: float, errors: int) -> dict[str, Any]:
    """A phase's row: requests per second over ``seconds``, p50/p99 in ms, count, errors."""
    return {
        "rate": len(latencies) / max(seconds, 1e-9),
        "p50": pct(latencies, 50) * 1000,
        "p99": pct(latencies, 99) * 1000,
        "n": len(latencies),
        "errors": errors,
    }


QUIET_WAIT = 0.0  # set from --quiet-wait


def load() -> str:
    """Wait (up to --quiet-wait seconds) for the machine to calm down, then return the
    1-minute load average, printed next to each phase (research/chat.md, pitfall 4)."""
    deadline = time.monotonic() + QUIET_WAIT
    while os.getloadavg()[0] > 1.0 and time.monotonic() < deadline:
        time.sleep(2)
    return f"{os.getloadavg()[0]:.1f}"


def _proc_cpu(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the uvicorn master and its worker processes (from
    /proc): the server's own cost per request, whatever else shares the machine."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        return 0.0
    return _proc_cpu(pids)


def database_cpu() -> float:
    """CPU seconds used so far by the local PostgreSQL processes (0 if none is visible)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return _proc_cpu(pids)


def cpu_marks(pid: int) -> tuple[float, float, float]:
    """(server, database, this benchmark client) CPU seconds so far."""
    return server_cpu(pid), database_cpu(), time.process_time()


# --- Setup ---------------------------------------------------------------------------


def database_reset() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    import redis

    redis.Redis.from_url(REDIS).flushdb()


def seed(*, history_size: int, conversations: int, senders: int) -> dict[str, Any]:
    """Users, sessions, conversations and a very long history, inserted in bulk."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from chat.events import event_streams_ensure
    from chat.models import Conversation, Membership, Message
    from chat.presence import presence_set

    def users(prefix: str, n: int) -> list[User]:
        # "!" is Django's unusable password: these users log in by session token only.
        rows = [User(nickname=f"{prefix}{i}", password="!") for i in range(n)]  # noqa: S106
        return User.objects.bulk_create(rows, batch_size=2000)

    def token(user: User) -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return str(session.session_key)

    def direct(a: User, b: User, when: Any) -> Conversation:
        low, high = sorted((a.pk, b.pk))
        return Conversation(kind="direct", direct_key=f"{low}:{high}", last_activity_at=when)

    now = timezone.now()
    heavy, lurker = users("heavy", 2)
    sender_users = users("sender", senders)
    receiver_users = users("receiver", senders)
    friends = users("friend", conversations)
    everyone = [heavy, lurker, *sender_users, *receiver_users, *friends]
    event_streams_ensure(user_ids=[u.pk for u in everyone])

    # The long conversation and the 1:1 conversations of the concurrent senders.
    big = Conversation.objects.create(
        kind="direct", direct_key=f"{heavy.pk}:{lurker.pk}", last_activity_at=now
    )
    pairs = Conversation.objects.bulk_create(
        [direct(s, r, now) for s, r in zip(sender_users, receiver_users, strict=True)]
    )
    # --room: every sender in one group conversation (the Synapse peer's room).
    room = Conversation.objects.create(
        kind="group", title="bench room", owner=sender_users[0], last_activity_at=now
    )
    # The 1,000 conversations of the heavy user, each with a few messages.
    many = Conversation.objects.bulk_create(
        [direct(heavy, f, now - timedelta(minutes=i)) for i, f in enumerate(friends)],
        batch_size=2000,
    )
    members = [Membership(conversation=big, user=heavy), Membership(conversation=big, user=lurker)]
    for conv, s, r in zip(pairs, sender_users, receiver_users, strict=True):
        members += [Membership(conversation=conv, user=s), Membership(conversation=conv, user=r)]
    members += [Membership(conversation=room, user=s) for s in sender_users]
    for conv, f in zip(many, friends, strict=True):
        members += [
            Membership(conversation=conv, user=heavy),
            Membership(conversation=conv, user=f),
        ]
    Membership.objects.bulk_create(members, batch_size=5000)
    Message.objects.bulk_create(
        [
            Message(conversation=conv, sender=who, kind="text", text=f"hello {i}", created_at=now)
            for conv, f in zip(many, friends, strict=True)
            for i, who in enumerate((f, heavy, f))
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO chat_message (conversation_id, sender_id, kind, text, created_at) "
            "SELECT %s, CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, 'text', "
            "'message number ' || g, now() - (%s - g) * interval '1 second' "
            "FROM generate_series(1, %s) AS g",
            [big.pk, heavy.pk, lurker.pk, history_size, history_size],
        )
        # As a live database is: vacuumed and analysed. Otherwise autovacuum works
        # through the million new rows during the measured phases, on the same cores.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(
            "SELECT min(id), max(id) FROM chat_message WHERE conversation_id = %s", [big.pk]
        )
        low, high = cursor.fetchone()
    for user in [*receiver_users, lurker, heavy, *sender_users]:
        presence_set(user_id=user.pk)
    return {
        "heavy": token(heavy),
        "lurker": token(lurker),
        "big": str(big.uuid),
        "big_ids": (low, high),
        "senders": [token(s) for s in sender_users],
        "receivers": [token(r) for r in receiver_users],
        "pairs": [str(c.uuid) for c in pairs],
        "room": str(room.uuid),
        "users": {"heavy": heavy.pk, "sender0": sender_users[0].pk},
    }


def queries_per_request(data: dict[str, Any]) -> dict[str, int]:
    """Queries each measured request runs, counted in-process against the same database."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def count(token: str, method: str, path: str, body: Any = None) -> int:
        client = Client(HTTP_X_SESSION_TOKEN=token)
        with CaptureQueriesContext(connection) as ctx:
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, body, content_type="application/json")
        assert response.status_code < 300, (path, response.status_code, response.content[:300])
        return len(ctx.captured_queries)

    from accounts.models import User
    from chat.ws_send import message_send_frame

    with CaptureQueriesContext(connection) as ctx:
        status, _ = message_send_frame(
            sender=User.objects.get(pk=data["users"]["sender0"]),
            content={
                "type": "message.send",
                "conversation": data["pairs"][0],
                "client_id": str(uuid.uuid4()),
                "text": "q",
            },
        )
    assert status == 201, status
    ws_send = len(ctx.captured_queries) - 1  # minus loading the sender (done once per socket)
    send = f"/api/v1/conversations/{data['pairs'][0]}/messages"
    return {
        "ws_send": ws_send,
        "send": count(
            data["senders"][0], "POST", send, {"client_id": str(uuid.uuid4()), "text": "q"}
        ),
        "history": count(
            data["heavy"], "GET", f"/api/v1/conversations/{data['big']}/messages?limit=50"
        ),
        "list": count(data["heavy"], "GET", "/api/v1/conversations"),
    }


# --- Server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_start(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "meetnow.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise SystemExit("uvicorn did not start")
    return proc


# --- Phases ------------------------------------------------------------------------------


async def warm(port: int, token: str, path: str, n: int = 20, connections: int = 12) -> None:
    """``n`` requests on each of ``connections`` concurrent connections: the kernel hands
    each connection to one uvicorn worker, so a single one would warm one worker only
    (the others' first measured requests would open pooled connections and prepare)."""

    async def one() -> None:
        client = Http(port, token)
        await client.open()
        for _ in range(n):
            await client.request("GET", path)
        await client.close()

    await asyncio.gather(*(one() for _ in range(connections)))


async def sends(port: int, tokens: list[str], convs: list[str], per_sender: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0

    async def one(token: str, conv: str) -> None:
        nonlocal errors
        client = Http(port, token)
        await client.open()
        path = f"/api/v1/conversations/{conv}/messages"
        for _ in range(per_sender):
            started = time.perf_counter()
            status, _ = await client.request(
                "POST", path, {"client_id": str(uuid.uuid4()), "text": "benchmark message"}
            )
            latencies.append(time.perf_counter() - started)
            if status != 201:
                errors += 1
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(t, c) for t, c in zip(tokens, convs, strict=True)))
    wall = time.perf_counter() - started
    return summary(latencies, wall, errors)


class Socket:
    """One app socket that sends ``message.send`` frames and waits for each ack (the
    events it also receives are skipped unparsed, as cheaply as possible)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.ws: Any = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            f"ws://127.0.0.1:{self.port}/ws/v1/",
            additional_headers={"X-Session-Token": self.token},
            compression=None,
        )
        assert json.loads(await self.ws.recv())["type"] == "ready"

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def send(self, conv: str, client_id: str, text: str) -> int:
        frame = {"type": "message.send", "conversation": conv, "client_id": client_id}
        await self.ws.send(json.dumps({**frame, "text": text}))
        async with asyncio.timeout(30):  # bounded: a lost ack is an error, not a hang
            while True:
                raw = await self.ws.recv()
                # Events are skipped unparsed; only a candidate ack is decoded.
                if client_id in raw and "message.ack" in raw:
                    frame = json.loads(raw)
                    if frame.get("type") == "message.ack" and frame.get("client_id") == client_id:
                        return int(frame["status"])


async def sends_ws(
    port: int, tokens: list[str], convs: list[str], per_sender: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0

    async def one(token: str, conv: str) -> None:
        nonlocal errors
        sock = Socket(port, token)
        await sock.open()
        for _ in range(per_sender):
            started = time.perf_counter()
            status = await sock.send(conv, str(uuid.uuid4()), "benchmark message")
            latencies.append(time.perf_counter() - started)
            if status != 201:
                errors += 1
        await sock.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(t, c) for t, c in zip(tokens, convs, strict=True)))
    wall = time.perf_counter() - started
    return summary(latencies, wall, errors)


async def reads(port: int, token: str, paths: list[str]) -> dict[str, Any]:
    client = Http(port, token)
    await client.open()
    latencies = []
    errors = 0
    for path in paths:
        started = time.perf_counter()
        status, _ = await client.request("GET", path)
        latencies.append(time.perf_counter() - started)
        errors += status != 200
    await client.close()
    return summary(latencies, sum(latencies), errors)


async def delivery(
    port: int, sender: str, receiver: str, conv: str, n: int, transport: str = "http"
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    client = Http(port, sender)
    await client.open()
    sock = Socket(port, sender)
    if transport == "ws":
        await sock.open()
    latencies = []
    errors = 0
    async with connect(
        f"ws://127.0.0.1:{port}/ws/v1/", additional_headers={"X-Session-Token": receiver}
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        for _ in range(n):
            client_id = str(uuid.uuid4())
            started = time.perf_counter()
            send = asyncio.create_task(
                sock.send(conv, client_id, "ping")
                if transport == "ws"
                else client.request(
                    "POST",
                    f"/api/v1/conversations/{conv}/messages",
                    {"client_id": client_id, "text": "ping"},
                )
            )
            try:
                async with asyncio.timeout(5):
                    while True:
                        frame = json.loads(await ws.recv())
                        if (
                            frame.get("type") == "message.created"
                            and frame["message"]["client_id"] == client_id
                        ):
                            break
                latencies.append(time.perf_counter() - started)
            except TimeoutError:
                errors += 1
            await send
    await client.close()
    await sock.close()
    return summary(latencies, sum(latencies), errors)


PHASES = ("send", "history", "list", "delivery", "inproc")


def inproc_sends(data: dict[str, Any], *, room: bool, n: int) -> dict[str, Any]:
    """``n`` ``message.send`` frames of one sender handled in this process (the ``inproc``
    phase, see the module docstring); wall and CPU per send (this process, PostgreSQL)."""
    from accounts.models import User
    from chat.ws_send import message_send_frame

    sender = User.objects.get(pk=data["users"]["sender0"])
    conv = data["room"] if room else data["pairs"][0]

    def send() -> int:
        frame = {"type": "message.send", "conversation": conv, "client_id": str(uuid.uuid4())}
        status, _ = message_send_frame(sender=sender, content={**frame, "text": "in process"})
        return status

    for _ in range(50):  # warm: connections open, statements prepared
        send()
    latencies: list[float] = []
    errors = 0
    cpu, db = time.process_time(), database_cpu()
    started = time.perf_counter()
    for _ in range(n):
        began = time.perf_counter()
        errors += send() != 201
        latencies.append(time.perf_counter() - began)
    wall = time.perf_counter() - started
    row = summary(latencies, wall, errors)
    row["cpu_ms"] = (time.process_time() - cpu) * 1000 / n
    row["db_ms"] = (database_cpu() - db) * 1000 / n
    return row


def child(args: argparse.Namespace) -> int:
    quick = args.quick
    phases = set(args.only or PHASES)
    history_size = (100_000 if quick else 1_000_000) if "history" in phases else 1_000
    conversations = 200 if quick else 1_000
    single_n = 300 if quick else 1_000
    per_sender = 40 if quick else 150
    reads_n = 100 if quick else 300
    delivery_n = 100 if quick else 300

    print(
        f"== chat benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"uvicorn x{args.workers}, PostgreSQL {DB_NAME}, Redis {REDIS}; send limit LIFTED) ==",
        flush=True,
    )
    t0 = time.monotonic()
    database_reset()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    data = seed(history_size=history_size, conversations=conversations, senders=args.senders)
    print(
        f"  setup: migrate + {history_size:,} messages + {conversations:,} conversations "
        f"in {time.monotonic() - t0:.0f} s",
        flush=True,
    )
    queries = queries_per_request(data)
    if "inproc" in phases:
        where = "one room" if args.room else "1:1"
        before = load()
        r = inproc_sends(data, room=args.room, n=single_n)
        print(
            f"  in-process message.send ({where}, 1 sender): n {r['n']}, {r['rate']:.0f}/s, "
            f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, CPU ms per send: this process "
            f"{r['cpu_ms']:.2f}, PostgreSQL {r['db_ms']:.2f}; errors {r['errors']}; "
            f"load {before}",
            flush=True,
        )

    port = free_port()
    env = {**os.environ, **SERVER_ENV}
    env.pop(CHILD, None)
    proc = server_start(port, args.workers, env)
    rows: list[tuple[str, dict[str, Any], str, str]] = []
    marks: list[tuple[float, float, float]] = []
    try:
        low, high = data["big_ids"]
        big = f"/api/v1/conversations/{data['big']}/messages"
        asyncio.run(warm(port, data["heavy"], big))
        asyncio.run(warm(port, data["heavy"], "/api/v1/conversations"))
        # A running server is warm: pooled connections open, statements prepared (after
        # 5 runs per connection). These sends are not measured.
        transports = ["http", "ws"] if args.transport == "both" else [args.transport]
        senders = data["senders"]
        convs = [data["room"]] * len(senders) if args.room else data["pairs"]
        where = "one room" if args.room else "1:1 each"
        send_fns = {"http": sends, "ws": sends_ws}
        for transport in transports if phases & {"send", "delivery"} else ():
            asyncio.run(send_fns[transport](port, senders, convs, 10))

        def measure(name: str, run: Any, queries_shown: str) -> None:
            before = load()
            marks.append(cpu_marks(proc.pid))
            rows.append((name, asyncio.run(run), queries_shown, before))

        for transport in transports if "send" in phases else ():
            q = str(queries["ws_send" if transport == "ws" else "send"])
            fn = send_fns[transport]
            measure(f"send {transport}, 1 sender", fn(port, senders[:1], convs[:1], single_n), q)
            measure(
                f"send {transport}, {len(senders)} senders ({where})",
                fn(port, senders, convs, per_sender),
                q,
            )
        if "history" in phases:
            measure(
                f"history latest 50 ({history_size:,} msgs)",
                reads(port, data["heavy"], [f"{big}?limit=50"] * reads_n),
                str(queries["history"]),
            )
            rng = random.Random(7)
            paths = [f"{big}?limit=50&before={rng.randint(low + 50, high)}" for _ in range(reads_n)]
            measure(
                "history 50 at random depth",
                reads(port, data["heavy"], paths),
                str(queries["history"]),
            )
        if "list" in phases:
            measure(
                f"conversation list ({conversations:,} convs)",
                reads(port, data["heavy"], ["/api/v1/conversations"] * reads_n),
                str(queries["list"]),
            )
        for transport in transports if "delivery" in phases else ():
            q = str(queries["ws_send" if transport == "ws" else "send"])
            measure(
                f"delivery {transport} send -> socket",
                delivery(
                    port,
                    data["senders"][0],
                    data["receivers"][0],
                    data["pairs"][0],
                    delivery_n,
                    transport,
                ),
                q,
            )
        marks.append(cpu_marks(proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()

    print(
        f"  {'what':<40} {'n':>5} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'queries':>7} "
        f"{'CPU ms: srv':>11} {'db':>5} {'client':>6} {'errors':>6} {'load':>5}"
    )
    for i, (name, r, q, before) in enumerate(rows):
        n = max(r["n"], 1)
        srv, db, client = (
            (
                (after - start) * 1000 / n
                for after, start in zip(marks[i + 1], marks[i], strict=True)
            )
            if i + 1 < len(marks)
            else (0.0, 0.0, 0.0)
        )
        print(
            f"  {name:<40} {r['n']:>5} {r['rate']:>6.0f} {r['p50']:>7.2f} {r['p99']:>7.2f} "
            f"{q:>7} {srv:>11.2f} {db:>5.2f} {client:>6.2f} {r['errors']:>6} {before:>5}"
        )
    print(
        "  (req/s of latency rows = 1 / mean latency, one client in sequence; CPU ms = CPU "
        "time per request of the uvicorn processes (srv), of PostgreSQL (db) and of this "
        "benchmark's client; load = 1-min load average of the machine when the phase started)"
    )
    return 1 if any(r["errors"] for _, r, _, _ in rows) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chat", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer requests")
    parser.add_argument(
        "--workers", type=int, default=3, help="uvicorn worker processes (default 3: cores + 1)"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="seconds to wait before each phase for the load average to drop below 1",
    )
    parser.add_argument("--senders", type=int, default=32, help="concurrent senders (32)")
    parser.add_argument(
        "--transport",
        choices=["http", "ws", "both"],
        default="both",
        help="send with POST /messages (http), message.send frames (ws), or both (default)",
    )
    parser.add_argument(
        "--room",
        action="store_true",
        help="all senders in one group conversation (default: one 1:1 conversation each)",
    )
    parser.add_argument("--database", default=DB_NAME, help="PostgreSQL database (recreated)")
    parser.add_argument("--redis", default=REDIS, help="Redis URL (its database is flushed)")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(PHASES),
        help="run only this phase (repeatable; default: all)",
    )
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if not 1 <= args.senders <= 200:
        parser.error("--senders: 1 to 200")
    configure(database=args.database, redis_url=args.redis)
    global QUIET_WAIT
    QUIET_WAIT = args.quiet_wait
    if os.environ.get(CHILD):
        return child(args)
    for name, host, port in (("PostgreSQL", "127.0.0.1", 5432), ("Redis", "127.0.0.1", 6379)):
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            print(f"bench.chat: {name} is not running on {host}:{port}; start it first.")
            return 1
    # A fresh interpreter with the benchmark's settings: `python -m bench` may have
    # configured Django differently for another benchmark in this process.
    env = {**os.environ, **SERVER_ENV, CHILD: "1"}
    if os.environ.get("DJANGO_SETTINGS_MODULE", "meetnow.settings") != "meetnow.settings":
        env["MEETNOW_BENCH_BASE_SETTINGS"] = os.environ["DJANGO_SETTINGS_MODULE"]
    argv_out = (
        (["--quick"] if args.quick else [])
        + [
            "--workers",
            str(args.workers),
            "--quiet-wait",
            str(args.quiet_wait),
            "--senders",
            str(args.senders),
            "--transport",
            args.transport,
            "--database",
            args.database,
            "--redis",
            args.redis,
        ]
        + (["--room"] if args.room else [])
        + [f"--only={phase}" for phase in args.only or ()]
    )
    return subprocess.run(
        [sys.executable, "-m", "bench.chat", *argv_out], cwd=ROOT, env=env, check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
