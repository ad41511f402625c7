"""Server CPU of one like, in-process: ``python -m bench.like_cpu``.

Runs ``POST /api/v1/dating/posts/<uuid>/like`` through Django's real WSGI application
(the one the HTTP bridge calls, ``meetnow.asgi``), one request after another in one
thread, with real app session tokens, on PostgreSQL and Redis, and reports the CPU time
(``time.thread_time``) of each request from the WSGI call to the response closed. The
work a like hands to after the answer (its live event and push, ``after_response``) is
collected as the bridge does and timed apart. Much less noisy than the HTTP benchmark
(``bench.dating``): no event loop, no client, no network, no other process.

Each liker's session is stamped by the re-consent gate as a login stamps it
(``gate_session_stamp``), so the gate does what it does for a real user. Every like is
a new one (each run publishes fresh posts): its row is inserted and the count moved,
as in ``bench.dating``. ``--gap-ms`` waits between likes (the paced phase's likes each
arrive to cold caches); ``--profile N`` prints cProfile's top N functions.

Needs its own database and Redis database (``--database``, ``--redis``); it migrates
the database and adds users and posts to it (nothing is dropped). The per-user limits
are lifted, as in ``bench.dating``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import statistics
import sys
import time
from typing import Any

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def _environ(path: str, token: str, extra: dict[str, str]) -> dict[str, Any]:
    """What uvicorn and the bridge hand Django for the bench client's request."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_X_SESSION_TOKEN": token,
        "HTTP_ACCEPT": "application/json",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "0",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **extra,
    }


def setup(*, likers: int, posts: int) -> tuple[list[str], list[str]]:
    """``likers`` users with stamped session tokens, ``posts`` fresh posts by one author."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore

    from accounts.models import User
    from chat.events import event_streams_ensure
    from dating import services
    from media.models import Kind, MediaFile, Purpose, Status
    from privacy.consents import gate_session_stamp
    from privacy.models import REQUIRED_DOCUMENT_KINDS
    from privacy.selectors import documents_current
    from privacy.services import consent_record

    stamp = f"{time.time_ns()}"
    born = dt.date(1995, 5, 17)
    author = User.objects.create(nickname=f"author{stamp}", password="!")  # noqa: S106
    fans = User.objects.bulk_create(
        [
            User(nickname=f"fan{stamp}-{i}", password="!", date_of_birth=born)  # noqa: S106
            for i in range(likers)
        ]
    )
    event_streams_ensure(user_ids=[author.pk, *(f.pk for f in fans)])
    current = documents_current()
    required = [current[k] for k in REQUIRED_DOCUMENT_KINDS if k in current]
    tokens = []
    for fan in fans:
        consent_record(user=fan, documents=required, ip_address=None)  # as sign-up does
        session = SessionStore()
        session[SESSION_KEY] = str(fan.pk)
        session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
        session[HASH_SESSION_KEY] = fan.get_session_auth_hash()
        session.create()
        gate_session_stamp(session=session, user_id=fan.pk)  # as a login does
        tokens.append(str(session.session_key))
    uuids = []
    for i in range(posts):
        voice = MediaFile(
            owner=author,
            purpose=Purpose.DATING_VOICE,
            kind=Kind.AUDIO,
            status=Status.READY,
            sniffed_type="audio/mp4",
            size=1000,
            duration_ms=12_000,
        )
        voice.variants = {
            "original": {
                "key": f"f/{voice.storage_prefix}/original.m4a",
                "content_type": "audio/mp4",
                "size": 1000,
            }
        }
        voice.save()
        post = services.post_publish(
            author=author, voice=voice.uuid, caption=f"post {i}", photos=[], audience="public"
        )
        uuids.append(str(post.uuid))
    return tokens, uuids


def run(
    app: Any, tokens: list[str], posts: list[str], *, gap: float, extra: dict[str, str]
) -> tuple[list[float], list[float]]:
    """CPU ms of each like's request, and of its after-answer work."""
    from meetnow.lib import afterresponse

    request_ms: list[float] = []
    after_ms: list[float] = []
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda chunk: None

    for post in posts:
        for token in tokens:
            if gap:
                time.sleep(gap)
            environ = _environ(f"/api/v1/dating/posts/{post}/like", token, extra)
            afterresponse.collect()
            t0 = time.thread_time()
            response = app(environ, start_response)
            b"".join(response)
            t1 = time.thread_time()
            afterresponse.run_collected()
            t2 = time.thread_time()
            response.close()
            t3 = time.thread_time()
            request_ms.append((t1 - t0 + t3 - t2) * 1000)
            after_ms.append((t2 - t1) * 1000)
    bad = [s for s in statuses if not s.startswith("200")]
    if bad:
        raise SystemExit(f"like_cpu: {len(bad)} likes failed, e.g. {bad[0]}")
    return request_ms, after_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.like_cpu", description=__doc__)
    parser.add_argument("--database", required=True, help="PostgreSQL database (migrated)")
    parser.add_argument("--redis", required=True, help="Redis URL, e.g. redis://127.0.0.1:6379/3")
    parser.add_argument("--likers", type=int, default=40)
    parser.add_argument("--posts", type=int, default=50, help="likes = likers x posts")
    parser.add_argument("--gap-ms", type=float, default=0.0, help="wait between likes")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (best shown)")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument(
        "--cookie", default="", help="send this Cookie header too (the browser's path)"
    )
    args = parser.parse_args(argv)
    if not args.database.replace("_", "").isalnum():
        raise SystemExit("--database: letters, digits and _ only")
    os.environ.update(
        {
            "DATABASE_URL": f"{PG}/{args.database}",
            "REDIS_URL": args.redis,
            "DJANGO_SETTINGS_MODULE": "meetnow.settings",
            "DJANGO_DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "MEETNOW_THROTTLE_DATING_LIKE": "1000000/s",
            "MEETNOW_THROTTLE_USER": "1000000/s",
        }
    )
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    extra = {"HTTP_COOKIE": args.cookie} if args.cookie else {}
    tokens, posts = setup(likers=args.likers, posts=5)
    run(app, tokens, posts, gap=0, extra=extra)  # warm: imports, pools, compiled SQL
    results = []
    for _ in range(args.rounds):
        tokens, posts = setup(likers=args.likers, posts=args.posts)
        results.append(run(app, tokens, posts, gap=args.gap_ms / 1000, extra=extra))
    print(
        f"like CPU per request, in-process, {args.likers * args.posts} likes per round, "
        f"gap {args.gap_ms:g} ms, load {os.getloadavg()[0]:.2f}:"
    )
    for i, (request_ms, after_ms) in enumerate(results):
        print(
            f"  round {i + 1}: request median {statistics.median(request_ms):.3f} ms, "
            f"mean {statistics.fmean(request_ms):.3f} ms; after the answer median "
            f"{statistics.median(after_ms):.3f} ms"
        )
    if args.profile:
        tokens, posts = setup(likers=args.likers, posts=args.posts)
        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        run(app, tokens, posts, gap=0, extra=extra)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
