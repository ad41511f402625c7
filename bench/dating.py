"""Voice-post benchmark on the real stack: PostgreSQL, Redis, uvicorn, loopback.

``python -m bench.dating`` (or ``make bench``) prints one table:

- feed page of 20 (``GET /api/v1/dating/posts``) on 1,000,000 posts by 10,000 authors:
  the first page, and pages reached by following ``next`` cursors (p50/p99), one
  client in sequence; target p50 < 10 ms, p99 < 25 ms;
- like (``POST .../like``) with 32 clients, each liking posts of the feed, twice:
  back to back (each sends its next like when the last is answered: this measures
  the queue, see ``likes_paced``) and paced (each at ``--like-rate`` likes per
  second, open loop: this measures the service time); p50/p99 and the achieved
  rate; target p50 < 5 ms;
- queries per request (counted in-process on the same database);
- voice match (bench/voicematch.py): with 1,000 people waiting in the queue, the time
  from entering (``POST /api/v1/dating/voice-match``) to both sockets having the call
  (p50/p99), paced (Poisson arrivals at ``--vm-rate`` per second: the latency at that
  rate) and saturated (``--vm-concurrency`` entering back to back: the capacity);
  target p99 < 100 ms. ``--only voicematch`` runs this part alone (``--vm-waiting``,
  ``--vm-probes`` size it), ``--only posts`` the others.

**The per-user limits are lifted** for the run (``MEETNOW_THROTTLE_DATING_LIKE`` and
``MEETNOW_THROTTLE_USER``): otherwise it measures the limiter. Every post has a
processed clip (a ``media`` row, no bytes in storage: the feed only signs URLs), one
post in ten a photo; the viewer has blocked 50 authors and 200 authors are hidden
from discover, so the feed's conditions have work to do. The viewer's and the likers'
sessions are left as a real sign-in leaves them (consents recorded, the session stamped
by the re-consent gate), so each request pays the gate's check as a real user's does.

Everything runs on 127.0.0.1 in a throwaway database (``bench_dating``, dropped and
recreated) and Redis database ``BENCH_REDIS`` (default 2, flushed). ``--quick``:
100,000 posts by 1,000 authors and fewer requests (what fits a busy shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.chat import Http, cpu_marks, free_port, load, pct, server_start, summary

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DATING_DB", "bench_dating")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/2")
CHILD = "MEETNOW_BENCH_DATING_CHILD"

SERVER_ENV = {
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "REDIS_URL": REDIS,
    "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER")
    or REDIS.rsplit("/", 1)[0] + "/" + str(int(REDIS.rsplit("/", 1)[1]) + 1),
    "DJANGO_DEBUG": "false",
    "LOG_LEVEL": "WARNING",
    # Lifted for the benchmark (see the docstring); production keeps its limits.
    "MEETNOW_THROTTLE_DATING_LIKE": "1000000/s",
    "MEETNOW_THROTTLE_USER": "1000000/s",
    "DATABASE_POOL_MIN_SIZE": "4",
    "DATABASE_POOL_MAX_SIZE": "24",
    "DJANGO_SETTINGS_MODULE": "meetnow.settings",
}


def database_reset() -> None:
    import psycopg
    import redis

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    redis.Redis.from_url(REDIS).flushdb()


_BULK_TABLES = ("media_mediafile", "dating_voicepost", "dating_postphoto")


@contextlib.contextmanager
def _bulk_load(cursor: Any, tables: tuple[str, ...]) -> Iterator[None]:
    """Fill ``tables`` fast: their secondary indexes and unique constraints dropped
    while the rows go in and built once at the end (a sort each, instead of a
    million random inserts into each b-tree), and no per-row foreign key trigger
    (``session_replication_role = replica``: the seed's rows are consistent by
    construction). Primary keys stay (ids grow, so they only append)."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)",
        [list(tables)],
    )
    uniques = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for table, name, _definition in uniques:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute("SET session_replication_role = replica")
    cursor.execute("SET maintenance_work_mem = '256MB'")
    try:
        yield
    finally:
        cursor.execute("RESET session_replication_role")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in uniques:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def seed(*, posts: int, authors: int, likers: int) -> dict[str, Any]:
    """Authors, one processed clip per post, posts, a few photos, blocks, in bulk SQL."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.db import connection

    from accounts.models import Block, User
    from chat.events import event_streams_ensure
    from privacy.consents import gate_session_stamp
    from privacy.models import REQUIRED_DOCUMENT_KINDS
    from privacy.selectors import documents_current
    from privacy.services import consent_record

    born = dt.date(1995, 5, 17)

    def users(prefix: str, n: int) -> list[User]:
        rows = [
            User(nickname=f"{prefix}{i}", password="!", date_of_birth=born)  # noqa: S106
            for i in range(n)
        ]
        return User.objects.bulk_create(rows, batch_size=5000)

    current = documents_current()
    required = [current[k] for k in REQUIRED_DOCUMENT_KINDS if k in current]

    def token(user: User) -> str:
        """A session token as a real sign-in leaves it: consents recorded and the
        session stamped by the re-consent gate, so every request pays the gate's
        check (its cached policy generation read) as a real user's does."""
        consent_record(user=user, documents=required, ip_address=None)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        if gate_session_stamp(session=session, user_id=user.pk).blocked:
            raise SystemExit("bench: the consent gate refuses the seeded user")
        return str(session.session_key)

    viewer = users("viewer", 1)[0]
    fans = users("fan", likers)
    author_rows = users("author", authors)
    event_streams_ensure(user_ids=[u.pk for u in [viewer, *fans, *author_rows]])
    low, high = author_rows[0].pk, author_rows[-1].pk
    Block.objects.bulk_create([Block(blocker=viewer, blocked=a) for a in author_rows[:50]])
    User.objects.filter(pk__in=[a.pk for a in author_rows[50:250]]).update(
        hidden_from_discover=True
    )
    with connection.cursor() as cursor, _bulk_load(cursor, _BULK_TABLES):
        # One processed clip per post (audio, 5-60 s), then the posts in time order,
        # authors spread evenly; one post in ten gets a processed photo.
        cursor.execute(
            "INSERT INTO media_mediafile (uuid, owner_id, purpose, kind, status, reject_reason, "
            "sniffed_type, size, storage_prefix, upload_key, variants, duration_ms, attempts, "
            "created_at, attached_at) "
            "SELECT gen_random_uuid(), %s + (g %% %s), 'dating_voice', 'audio', 'ready', '', "
            "'audio/mp4', 40000, md5(g::text), '', "
            "jsonb_build_object('original', jsonb_build_object('key', 'f/' || md5(g::text) "
            "|| '/original.m4a', 'content_type', 'audio/mp4', 'size', 40000)), "
            "5000 + (g %% 55) * 1000, 1, now(), now() FROM generate_series(1, %s) AS g",
            [low, high - low + 1, posts],
        )
        cursor.execute(
            "INSERT INTO dating_voicepost (uuid, author_id, voice_id, caption, audience, "
            "created_at, like_count, comment_count, listen_count) "
            "SELECT gen_random_uuid(), m.owner_id, m.id, 'voice post ' || m.id, "
            "CASE WHEN m.id %% 20 = 0 THEN 'matches' ELSE 'public' END, "
            "now() - (%s - row_number() OVER (ORDER BY m.id)) * interval '1 second', "
            "0, 0, 0 FROM media_mediafile m ORDER BY m.id",
            [posts],
        )
        cursor.execute(
            "INSERT INTO media_mediafile (uuid, owner_id, purpose, kind, status, reject_reason, "
            "sniffed_type, size, storage_prefix, upload_key, variants, width, height, attempts, "
            "created_at, attached_at) "
            "SELECT gen_random_uuid(), p.author_id, 'dating_photo', 'image', 'ready', '', "
            "'image/jpeg', 90000, md5('p' || p.id::text), '', "
            "jsonb_build_object('original', jsonb_build_object('key', 'f/' || md5('p' || "
            "p.id::text) || '/original.jpg', 'content_type', 'image/jpeg', 'size', 90000)), "
            "1024, 768, 1, now(), now() FROM dating_voicepost p WHERE p.id %% 10 = 0",
            [],
        )
        cursor.execute(
            "INSERT INTO dating_postphoto (post_id, media_id, position) "
            "SELECT p.id, m.id, 0 FROM dating_voicepost p "
            "JOIN media_mediafile m ON m.storage_prefix = md5('p' || p.id::text)"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(
            "SELECT uuid FROM dating_voicepost WHERE audience = 'public' "
            "ORDER BY id DESC LIMIT 2000"
        )
        recent = [str(row[0]) for row in cursor.fetchall()]
    return {
        "viewer": token(viewer),
        "fans": [token(f) for f in fans],
        "recent": recent,
    }


def queries_per_request(data: dict[str, Any]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def count(token: str, method: str, path: str) -> int:
        client = Client(HTTP_X_SESSION_TOKEN=token)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path) if method == "GET" else client.post(path)
        assert response.status_code < 300, (path, response.status_code, response.content[:300])
        return len(ctx.captured_queries)

    return {
        "feed": count(data["viewer"], "GET", "/api/v1/dating/posts?limit=20"),
        "like": count(data["fans"][0], "POST", f"/api/v1/dating/posts/{data['recent'][-1]}/like"),
    }


async def feed_pages(
    port: int, token: str, walks: int, depth: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``walks`` times: the first page, then ``depth`` pages following ``next``."""
    client = Http(port, token)
    await client.open()
    first: list[float] = []
    deeper: list[float] = []
    errors = 0
    for _ in range(walks):
        path: str | None = "/api/v1/dating/posts?limit=20"
        for level in range(depth + 1):
            if path is None:
                break
            started = time.perf_counter()
            status, body = await client.request("GET", path)
            (first if level == 0 else deeper).append(time.perf_counter() - started)
            if status != 200:
                errors += 1
                break
            page = json.loads(body)
            if len(page["results"]) != 20:
                errors += 1
            nxt = page["next"]
            path = nxt[nxt.index("/api/") :] if nxt else None
    await client.close()

    def summary(values: list[float]) -> dict[str, Any]:
        return {
            "rate": len(values) / max(sum(values), 1e-9),
            "p50": pct(values, 50) * 1000,
            "p99": pct(values, 99) * 1000,
            "n": len(values),
            "errors": errors,
        }

    return summary(first), summary(deeper)


async def likes(port: int, tokens: list[str], posts: list[str], per_client: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    rng = random.Random(11)

    async def one(token: str) -> None:
        nonlocal errors
        client = Http(port, token)
        await client.open()
        for post in rng.sample(posts, per_client):
            started = time.perf_counter()
            status, _ = await client.request("POST", f"/api/v1/dating/posts/{post}/like")
            latencies.append(time.perf_counter() - started)
            errors += status != 200
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(t) for t in tokens))
    wall = time.perf_counter() - started
    return summary(latencies, wall, errors)


async def likes_paced(
    port: int, tokens: list[str], posts: list[str], per_client: int, rate: float
) -> dict[str, Any]:
    """Likes at a fixed offered rate: each client sends one every ``1 / rate`` seconds
    (the clients' phases spread evenly, so sends arrive one every
    ``1 / (rate * clients)`` seconds), whatever the answers' pace (open loop).

    Why: with N clients sending back to back (``likes``), Little's law (N = X * R:
    clients in the system = throughput * time in the system) fixes the latency at
    R = N / X. On 2 shared cores X is what the machine can do, so 32 clients measure
    32 / X, the queue, not what one like costs. Offered well below capacity, a like
    rarely waits for another, and the latency is the service time. A send that is
    late because the previous answer on its connection was late counts from when it
    was due (no coordinated omission), so queueing still shows if the rate is too
    high; the achieved rate is reported beside it."""
    latencies: list[float] = []
    errors = 0
    rng = random.Random(13)
    interval = 1.0 / rate
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5

    lags: list[float] = []

    async def one(index: int, token: str) -> None:
        nonlocal errors
        client = Http(port, token)
        await client.open()
        due = start + interval * index / len(tokens)
        for post in rng.sample(posts, per_client):
            await _until(loop, due)
            lags.append(loop.time() - due)
            status, _ = await client.request("POST", f"/api/v1/dating/posts/{post}/like")
            latencies.append(loop.time() - due)
            errors += status != 200
            due += interval
        await client.close()

    await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
    wall = loop.time() - start
    return {
        **summary(latencies, wall, errors),
        "offered": rate * len(tokens),
        "lag_p50": pct(lags, 50) * 1000,
        "lag_p99": pct(lags, 99) * 1000,
    }


_SPIN = 0.0015  # s: the last stretch before a send's due time, waited for by yielding


async def _until(loop: asyncio.AbstractEventLoop, due: float) -> None:
    """Return at ``due`` (the loop's clock), not up to a millisecond after it.

    ``asyncio.sleep`` wakes late: the loop waits in ``epoll``, whose timeout is whole
    milliseconds rounded up, so a send woke 0.7-0.9 ms after its due time at p50
    (measured 2026-12-06), which the paced like's latency, counted from the due time,
    charged to the server. The client sleeps until shortly before and then yields to
    the loop (answers on other connections are still read) until the time has come."""
    delay = due - loop.time() - _SPIN
    if delay > 0:
        await asyncio.sleep(delay)
    while loop.time() < due:
        await asyncio.sleep(0)


def voicematch_rows(
    args: argparse.Namespace, env: dict[str, str]
) -> list[tuple[str, dict[str, Any], str, str]]:
    """The voice-match phases (bench/voicematch.py) as rows of the table: a paced row
    per ``--vm-rate``, then the saturated row."""
    from bench import voicematch

    rates = [float(r) for r in str(args.vm_rate).split(",") if r.strip()]
    found, queries = voicematch.phase(
        env=env,
        workers=args.workers,
        waiting=args.vm_waiting,
        probes=args.vm_probes,
        rates=rates,
        concurrency=args.vm_concurrency,
    )
    return [(f"voice match {name}", r, queries, r["load"]) for name, r in found]


def voicematch_only(args: argparse.Namespace) -> int:
    print(
        f"== dating benchmark, voice match only (python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cpus, uvicorn x{args.workers}, PostgreSQL, Redis) ==",
        flush=True,
    )
    database_reset()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    env = {**os.environ, **SERVER_ENV}
    env.pop(CHILD, None)
    rows = voicematch_rows(args, env)
    print(
        f"  with {args.vm_waiting:,} waiting; {args.vm_probes} entering per phase; "
        f"{time.strftime('%H:%M', time.gmtime())} UTC at the end"
    )
    print(
        f"  {'what':<52} {'n':>4} {'pair/s':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'req p50':>7} {'req p99':>7} {'CPU srv/pg/cli ms':>18} {'q':>3} {'err':>3} "
        f"{'load':>9}"
    )
    for name, r, q, before in rows:
        cpu = "/".join(f"{v:.1f}" for v in r["cpu_ms"])
        print(
            f"  {name:<52} {r['n']:>4} {r['rate']:>6.1f} {r['p50']:>7.2f} {r['p99']:>7.2f} "
            f"{r['request_p50']:>7.2f} {r['request_p99']:>7.2f} {cpu:>18} {q:>3} "
            f"{r['errors']:>3} {before:>4}-{r['load_after']:<4}"
        )
        lag = f"client sent late p99 {r['lag_p99']:.2f} ms; " if "lag_p99" in r else ""
        gc_ms = f"client GC longest {r['client_gc_ms']:.1f} ms; " if "client_gc_ms" in r else ""
        print(f"    ({lag}{gc_ms}{r['sockets']} sockets open)")
    print(
        "  (target: p99 < 100 ms from entering the queue to both sockets having the call, "
        "at the paced rows' arrival rates; pair/s = achieved arrival rate (paced) or "
        "capacity (saturated); req = the request alone; CPU per pairing of the phase; "
        "q = queries of one pairing, counted in-process; load = 1-min load average "
        "before-after the phase)"
    )
    return 1 if any(r["errors"] for _, r, _, _ in rows) else 0


def child(args: argparse.Namespace) -> int:
    if args.only == "voicematch":
        return voicematch_only(args)
    posts = 100_000 if args.quick else 1_000_000
    authors = 1_000 if args.quick else 10_000
    walks = 30 if args.quick else 100
    per_client = 20 if args.quick else 60
    print(
        f"== dating benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"uvicorn x{args.workers}, PostgreSQL, Redis; like limit LIFTED) ==",
        flush=True,
    )
    t0 = time.monotonic()
    database_reset()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    data = seed(posts=posts, authors=authors, likers=32)
    print(
        f"  setup: migrate + {posts:,} posts by {authors:,} authors "
        f"in {time.monotonic() - t0:.0f} s",
        flush=True,
    )
    queries = queries_per_request(data)
    port = free_port()
    env = {**os.environ, **SERVER_ENV}
    env.pop(CHILD, None)
    proc = server_start(port, args.workers, env)
    rows: list[tuple[str, dict[str, Any], str, str]] = []
    marks: list[tuple[float, float, float]] = []
    try:
        asyncio.run(feed_pages(port, data["viewer"], 5, 3))  # warm: pools, prepared statements
        asyncio.run(likes(port, data["fans"], data["recent"][1500:], 5))

        before = load()
        marks.append(cpu_marks(proc.pid))
        first, deeper = asyncio.run(feed_pages(port, data["viewer"], walks, 9))
        rows.append(
            (f"feed, first page of 20 ({posts:,} posts)", first, str(queries["feed"]), before)
        )
        rows.append(("feed, next pages (cursor, 2-10 deep)", deeper, str(queries["feed"]), before))
        marks.append(marks[-1])

        before = load()
        marks.append(cpu_marks(proc.pid))
        result = asyncio.run(likes(port, data["fans"], data["recent"][:1000], per_client))
        rows.append(
            ("like, 32 clients back to back (queueing)", result, str(queries["like"]), before)
        )
        marks.append(cpu_marks(proc.pid))

        before = load()
        paced = asyncio.run(
            likes_paced(port, data["fans"], data["recent"][1000:1500], per_client, args.like_rate)
        )
        rows.append(
            (
                f"like, 32 clients paced ({paced['offered']:.0f}/s offered)",
                paced,
                str(queries["like"]),
                before,
            )
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    if args.only == "all":
        rows.extend(voicematch_rows(args, env))

    print(
        f"  {'what':<42} {'n':>5} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'queries':>7} "
        f"{'errors':>6} {'load':>5}"
    )
    for name, r, q, before in rows:
        print(
            f"  {name:<42} {r['n']:>5} {r['rate']:>6.0f} {r['p50']:>7.2f} {r['p99']:>7.2f} "
            f"{q:>7} {r['errors']:>6} {before:>5}"
        )
        if "lag_p50" in r:
            print(f"    (client sent late p50 {r['lag_p50']:.2f} / p99 {r['lag_p99']:.2f} ms)")
    print(
        "  (targets: feed p50 < 10 ms and p99 < 25 ms, like p50 < 5 ms at 32 clients; "
        "req/s of feed rows = 1 / mean latency, one client in sequence; req/s of like "
        "rows = achieved rate; paced latency counts from each send's due time; load = "
        "1-min load average when the phase started)"
    )
    return 1 if any(r["errors"] for _, r, _, _ in rows) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dating", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k posts, fewer requests")
    parser.add_argument("--workers", type=int, default=3, help="uvicorn worker processes")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="seconds to wait before each phase for the load average to drop below 1",
    )
    parser.add_argument(
        "--like-rate",
        type=float,
        default=1.0,
        help="paced like phase: likes per second per client (32 clients)",
    )
    parser.add_argument(
        "--only",
        choices=["all", "posts", "voicematch"],
        default="all",
        help="run one part: the posts (feed, likes) or the voice match",
    )
    parser.add_argument(
        "--vm-waiting", type=int, default=1000, help="voice match: people waiting in the queue"
    )
    parser.add_argument(
        "--vm-probes",
        type=int,
        default=300,
        help="voice match: people entering (measured) in each phase",
    )
    parser.add_argument(
        "--vm-concurrency",
        type=int,
        default=4,
        help="voice match, saturated phase: people entering back to back at once",
    )
    parser.add_argument(
        "--vm-rate",
        default="20",
        help="voice match, paced phases: arrivals per second (Poisson), one phase per "
        "comma-separated rate",
    )
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    import bench.chat

    bench.chat.QUIET_WAIT = args.quiet_wait
    if os.environ.get(CHILD):
        return child(args)
    for name, host, port in (("PostgreSQL", "127.0.0.1", 5432), ("Redis", "127.0.0.1", 6379)):
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            print(f"bench.dating: {name} is not running on {host}:{port}; start it first.")
            return 1
    env = {**os.environ, **SERVER_ENV, CHILD: "1"}
    argv_out = (["--quick"] if args.quick else []) + [
        "--workers",
        str(args.workers),
        "--quiet-wait",
        str(args.quiet_wait),
        "--only",
        args.only,
        "--like-rate",
        str(args.like_rate),
        "--vm-waiting",
        str(args.vm_waiting),
        "--vm-probes",
        str(args.vm_probes),
        "--vm-concurrency",
        str(args.vm_concurrency),
        "--vm-rate",
        str(args.vm_rate),
    ]
    return subprocess.run(
        [sys.executable, "-m", "bench.dating", *argv_out], cwd=ROOT, env=env, check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
