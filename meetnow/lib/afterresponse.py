"""Work a request does after its answer has gone out: :func:`after_response`.

Some work a request causes is not part of its answer: a live event to another
user's sockets, a push enqueued on the broker. Each is a Redis round trip or more
(0.2 to 1 ms) that the client used to wait for. In the HTTP bridge
(``meetnow.lib.wsgi_bridge``) a request registers such work with
``after_response(fn)``; the bridge hands the finished response to the event loop
(which sends it), then runs the callbacks in the same worker thread, in the order
they were registered, before it closes the response (so Django's
``request_finished`` handlers, which return the database connection, come after
them and the callbacks use the request's connection and thread).

Outside the bridge (Django's test client, a2wsgi for large uploads and streaming,
management commands, Celery tasks) nothing collects callbacks: ``after_response``
runs the callback at once, so behaviour there is what it was before.

Rules for callers:

- Register only work whose outcome the answer does not report, and register it
  after the data it announces is committed (inside a transaction, register from
  ``transaction.on_commit``): ``after_response`` itself does not wait for a commit.
- A failing callback is logged (its name and the exception type and traceback;
  callbacks must not put personal data in their exceptions) and the next callback
  still runs. A callback that must not be lost keeps its own fallback (a push goes
  through ``meetnow.lib.outbox.task_send``; a missed live event is in sync).
- Order: one request's callbacks run in order, and a worker thread finishes them
  before it takes its next request. Events for one user sent by requests running in
  different threads could already reach the sockets in either order (each thread
  publishes after its own commit); every event carries its stream number and clients
  order by it (``chat.events``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

_state = threading.local()


def after_response(fn: Callable[[], object]) -> None:
    """Run ``fn`` once the current request's answer has gone out (at once when no
    request is collecting callbacks)."""
    pending: list[Callable[[], object]] | None = getattr(_state, "pending", None)
    if pending is None:
        _run_one(fn)
    else:
        pending.append(fn)


def collect() -> None:
    """Start collecting callbacks for a request running in this thread."""
    _state.pending = []


def collecting_any() -> bool:
    """Whether the request running in this thread has registered a callback."""
    return bool(getattr(_state, "pending", None))


def run_collected() -> None:
    """Stop collecting and run the callbacks collected so far, in order (a callback
    registered while these run is run too)."""
    pending: list[Callable[[], object]] | None = getattr(_state, "pending", None)
    _state.pending = None
    if not pending:
        return
    for fn in pending:
        _run_one(fn)


def _run_one(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:
        logger.exception(
            "after-response callback %s failed", getattr(fn, "__qualname__", type(fn).__name__)
        )
