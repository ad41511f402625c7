"""Django's PostgreSQL backend, with a cheaper check of the pooled connections.

``ENGINE = "meetnow.lib.postgresql"`` (meetnow/settings.py). The pool checks each
connection it hands out (issue 13).

psycopg_pool's own ``check_connection`` sends an empty query: a round trip to the
database for every request and every message sent over a socket, paid while
everything is healthy. This check asks the kernel instead whether the idle socket
has anything to read. An idle connection in the pool never has: the server writes to
it only when it ends it (a restart, ``pg_terminate_backend``, an idle timeout: a
FATAL message, then the socket's end), and then it is readable. Only then is the
empty query sent, which raises on a dead connection so that the pool throws it away
and hands out a fresh one (issue 13: requests recover after a database restart
without restarting the server). A connection cut without a word (a cable, not a
restart) is not detected here; the first query on it fails, as with no check at all.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg import Connection, OperationalError
from psycopg_pool import ConnectionPool


def _readable(fileno: int) -> bool:
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def connection_check(conn: Connection[Any]) -> None:
    """Raise if ``conn`` is no longer usable; no round trip while it is idle and quiet."""
    if conn.closed or conn.broken:
        raise OperationalError("the pooled connection is closed")
    try:
        quiet = not _readable(conn.fileno())
    except (OSError, ValueError):
        quiet = False
    if not quiet:
        ConnectionPool.check_connection(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's wrapper; its pool checks connections with ``connection_check``.

    Django passes psycopg_pool's own check when ``CONN_HEALTH_CHECKS`` is on and none
    otherwise, and takes no other; so the pool is made here the way Django makes it,
    with this check (``CONN_HEALTH_CHECKS`` stays off).
    """

    _connection_pools: dict[str, ConnectionPool[Any]]  # Django's, not in django-stubs

    @property
    def pool(self) -> ConnectionPool[Any] | None:
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not options:
            return None
        if self.alias not in self._connection_pools:
            kwargs = self.get_connection_params()
            kwargs["autocommit"] = True  # as Django: it sets the mode itself later
            pool = ConnectionPool(
                kwargs=kwargs,
                open=False,
                configure=self._configure_connection,  # type: ignore[attr-defined]
                check=connection_check,
                **({} if options is True else options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
