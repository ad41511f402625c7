"""Same-key retries under real concurrency (issue 13): many threads, a real server with
several worker processes, PostgreSQL.

Every message is sent two or three times with the same ``client_id`` (an app whose
answer was lost resends), the copies at the same moment from different threads, and
the server's processes race each other on the same rows. Exactly one message per
``client_id`` is stored, every copy is answered with that one message, and each
recipient's event stream has one event per message.
"""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from django.db import connection

from chat.events import EventType
from chat.models import Event, Message
from tests.conftest import require_or_skip
from tests.e2e.conftest import serve
from tests.factories.chat import make_direct, make_user
from tests.helpers import session_token_for

SENDERS = 4  # four pairs of people, each in their own conversation
PER_SENDER = 40
THREADS = 16


def test_same_key_retries_from_many_threads_store_each_message_once(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    require_or_skip(connection.vendor == "postgresql", "this test needs PostgreSQL")
    env = {
        **e2e_env,
        "MEETNOW_THROTTLE_CHAT_SEND": "100000/min",
        "MEETNOW_THROTTLE_USER": "100000/min",
    }
    pairs = [(make_user(f"s{i}"), make_user(f"r{i}")) for i in range(SENDERS)]
    sends: list[tuple[str, str, str]] = []  # (token, conversation, client_id)
    for sender, recipient in pairs:
        token, conversation = session_token_for(sender), str(make_direct(sender, recipient).uuid)
        sends += [(token, conversation, str(uuid.uuid4())) for _ in range(PER_SENDER)]
    rng = random.Random(13)
    # Every send twice, one in five a third time; neighbours in the list run at once.
    attempts = [s for s in sends for _ in range(3 if rng.random() < 0.2 else 2)]
    rng.shuffle(attempts)

    with serve(env, tmp_path / "asgi.log", workers=2) as base:
        clients = {
            token: httpx.Client(base_url=base, headers={"X-Session-Token": token})
            for token, _, _ in sends
        }

        def post(attempt: tuple[str, str, str]) -> tuple[str, int, Any]:
            token, conversation, client_id = attempt
            body = {"client_id": client_id, "kind": "text", "text": f"m {client_id[:8]}"}
            response = clients[token].post(
                f"/api/v1/conversations/{conversation}/messages", json=body, timeout=30
            )
            return client_id, response.status_code, response.json()

        with ThreadPoolExecutor(THREADS) as pool:  # about 3 s for the 350 requests
            answers = list(pool.map(post, attempts))
        for client in clients.values():
            client.close()

    statuses = sorted({status for _, status, _ in answers})
    assert set(statuses) <= {200, 201}, [a for a in answers if a[1] not in (200, 201)][:3]
    ids: dict[str, set[int]] = {}
    for client_id, _, body in answers:
        ids.setdefault(client_id, set()).add(body["id"])
    assert all(len(v) == 1 for v in ids.values()), "a retry was answered with another message"
    stored = Message.objects.filter(sender__in=[s for s, _ in pairs])
    assert stored.count() == len(sends)
    assert stored.values("client_id").distinct().count() == len(sends)
    assert sorted(stored.values_list("id", flat=True)) == sorted(i for v in ids.values() for i in v)
    for _, recipient in pairs:
        created = Event.objects.filter(user=recipient, type=EventType.MESSAGE_CREATED)
        assert created.count() == PER_SENDER
        assert len({e.payload["message_id"] for e in created}) == PER_SENDER
