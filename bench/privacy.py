"""Privacy benchmark: export and erasure of a user with a long history.

Run with ``python -m bench.privacy`` (or ``make bench``); ``--messages`` and ``--files``
change the size (default 100,000 messages and 1,000 files, each file stored as an
original plus two derivatives), ``--database-url`` runs it on PostgreSQL instead of a
throwaway SQLite file. Everything else lives in a throwaway folder.

1. Export: ``privacy.export.export_build`` in its own process (chunked parts, then the
   ZIP streamed to a temporary file and stored); wall time, peak RSS of the process,
   archive size.
2. Erasure: ``privacy.erasure.erasure_run`` in its own process, while a second process
   keeps writing to the same tables (a message in another conversation, a profile
   update) every 20 ms and records how long each write waited: the longest wait shows
   the longest lock the erasure held.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from typing import Any


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetnow.settings")
    import django

    django.setup()


def _populate(messages: int, files: int) -> dict[str, int]:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.services import user_create
    from chat.models import Conversation, Membership, Message
    from media.models import MediaFile

    call_command("migrate", verbosity=0, interactive=False)
    me = user_create(phone="+8613900000001", phone_verified=True, nickname="bench-me")
    friend = user_create(phone="+8613900000002", phone_verified=True, nickname="bench-friend")
    other = user_create(phone="+8613900000003", phone_verified=True, nickname="bench-other")
    direct = Conversation.objects.create(kind="direct", direct_key=f"{me.pk}:{friend.pk}")
    probe = Conversation.objects.create(kind="direct", direct_key=f"{friend.pk}:{other.pk}")
    for conversation, users in ((direct, (me, friend)), (probe, (friend, other))):
        for user in users:
            Membership.objects.create(conversation=conversation, user=user)
    batch = 5000
    for start in range(0, messages, batch):
        Message.objects.bulk_create(
            Message(
                conversation=direct,
                sender=me if i % 4 else friend,  # three in four are the user's
                kind="text",
                text=f"bench message {i} " + "x" * 60,
            )
            for i in range(start, min(start + batch, messages))
        )
    now = timezone.now()
    body = os.urandom(20_000)
    for i in range(files):
        media_file = MediaFile(
            owner=me,
            purpose="chat",
            kind="image",
            status="ready",
            sniffed_type="image/jpeg",
            size=len(body),
            attached_at=now,
            processed_at=now,
        )
        prefix = media_file.storage_prefix
        variants = {}
        for variant, size in (("original", len(body)), ("1024", 8000), ("256", 2000)):
            key = default_storage.save(f"f/{prefix}/{variant}.jpg", ContentFile(body[:size]))
            variants[variant] = {"key": key, "content_type": "image/jpeg", "size": size}
        media_file.variants = variants
        media_file.save()
        if i and i % 250 == 0:
            print(f"  {i} files stored", flush=True)
    return {"me": me.pk, "friend": friend.pk, "probe": probe.pk}


def _export_child(env: dict[str, str], user_id: int, queue: Any) -> None:
    os.environ.update(env)
    _setup_django()
    from accounts.models import User
    from privacy.export import export_build
    from privacy.lifecycle import request_create
    from privacy.models import PrivacyRequest

    user = User.objects.get(pk=user_id)
    privacy_request = request_create(user=user, kind="access")
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(status="in_processing")
    start = time.perf_counter()
    while export_build(request_id=privacy_request.pk) == "more":
        pass
    elapsed = time.perf_counter() - start
    privacy_request.refresh_from_db()
    queue.put(
        {
            "status": privacy_request.status,
            "seconds": elapsed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "archive_mb": (privacy_request.archive_size or 0) / 1024 / 1024,
        }
    )


def _erasure_child(env: dict[str, str], user_id: int, queue: Any) -> None:
    os.environ.update(env)
    _setup_django()
    from django.utils import timezone

    from accounts.models import User
    from privacy.erasure import erasure_leftovers, erasure_run
    from privacy.lifecycle import request_create
    from privacy.models import PrivacyRequest

    user = User.objects.get(pk=user_id)
    privacy_request = request_create(user=user, kind="erasure", identity_confirmed=True)
    # Past the cooling-off period, in processing (what the beat task does, minus enqueueing).
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        scheduled_for=timezone.now(), status="in_processing", started_at=timezone.now()
    )
    start = time.perf_counter()
    while erasure_run(request_id=privacy_request.pk) == "more":
        pass
    elapsed = time.perf_counter() - start
    privacy_request.refresh_from_db()
    queue.put(
        {
            "status": privacy_request.status,
            "seconds": elapsed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "leftovers": erasure_leftovers(user_id=user_id),
            "steps": {
                f"{s.model}:{s.action}": s.count for s in privacy_request.steps.order_by("id")
            },
        }
    )


def _probe_child(env: dict[str, str], ids: dict[str, int], stop: Any, queue: Any) -> None:
    os.environ.update(env)
    _setup_django()
    from accounts.models import User
    from chat.models import Message

    waits: list[float] = []
    while not stop.is_set():
        start = time.perf_counter()
        Message.objects.create(
            conversation_id=ids["probe"], sender_id=ids["friend"], kind="text", text="probe"
        )
        User.objects.filter(pk=ids["friend"]).update(bio=f"probe {len(waits)}")
        waits.append(time.perf_counter() - start)
        time.sleep(0.02)
    queue.put(waits)


def _run(target: Any, *args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return dict(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--database-url", default="", help="default: a throwaway SQLite file")
    args = parser.parse_args(argv)

    scratch = tempfile.mkdtemp(prefix="meetnow-bench-privacy-")
    env = {
        "MEETNOW_VAR_DIR": scratch,
        "MEDIA_ROOT": os.path.join(scratch, "media"),
        "STORAGE_BACKEND": "local",
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "DATABASE_URL": args.database_url or f"sqlite:///{scratch}/bench.sqlite3",
    }
    os.environ.update(env)
    _setup_django()
    from django.db import connection

    print(
        f"privacy benchmark: {args.messages} messages, {args.files} files "
        f"(x3 stored objects), database {connection.vendor}",
        flush=True,
    )
    start = time.perf_counter()
    ids = _populate(args.messages, args.files)
    print(f"  populated in {time.perf_counter() - start:.1f} s", flush=True)
    connection.close()

    export = _run(_export_child, env, ids["me"])
    print(
        f"export: {export['status']} in {export['seconds']:.1f} s, "
        f"peak RSS {export['peak_rss_mb']:.0f} MB, archive {export['archive_mb']:.1f} MB",
        flush=True,
    )

    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    probe_queue = ctx.Queue()
    probe = ctx.Process(target=_probe_child, args=(env, ids, stop, probe_queue))
    probe.start()
    time.sleep(2)
    erasure = _run(_erasure_child, env, ids["me"])
    stop.set()
    waits = probe_queue.get()
    probe.join()
    print(
        f"erasure: {erasure['status']} in {erasure['seconds']:.1f} s, "
        f"peak RSS {erasure['peak_rss_mb']:.0f} MB, leftovers {erasure['leftovers'] or 'none'}",
        flush=True,
    )
    tombstones = erasure["steps"].get("chat.Message:tombstone", 0)
    files = erasure["steps"].get("media.MediaFile:delete", 0)
    print(f"  steps: {tombstones} messages tombstoned, {files} files deleted", flush=True)
    if waits:
        ordered = sorted(waits)
        p99 = ordered[int(len(ordered) * 0.99) - 1] if len(ordered) >= 100 else ordered[-1]
        print(
            f"  concurrent writes during erasure: {len(waits)}, median "
            f"{statistics.median(waits) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {max(waits) * 1000:.1f} ms",
            flush=True,
        )
    ok = export["status"] == "complete" and erasure["status"] == "complete"
    ok = ok and not erasure["leftovers"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
