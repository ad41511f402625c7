"""A page of history as JSON-ready dicts, in one query with the membership check.

The hot read of the app (every conversation it opens). Built with the ORM it cost
two queries (membership, then the page), the compilation of both, and a Message
instance per row before the payload was built from it; here one statement checks
membership and fetches the page with each sender's uuid and each attachment's file,
and the payloads are built from the rows. Same shape as
``chat.payloads.message_payload`` (tests/chat/test_history_payloads.py compares them,
down to the bytes of the HTTP answer), same page rules as
``chat.selectors.message_history``: newest first, the ``limit`` messages just before
``before``, or just after ``after``, or the latest; messages the user deleted for
themself left out.

On PostgreSQL the statement hands back text wherever the payload wants text: uuids
as their canonical strings and times already written the way
``meetnow.lib.timestamps.iso`` writes them (UTC as ``Z``, no fraction when it is
zero). Loading a ``timestamptz`` into a datetime (psycopg's Python loader, wrapped by
Django's time-zone loader) and formatting it again, and a UUID object per uuid, were
over half of this function's CPU. Other databases hand back their own column values,
which are converted in Python (with ``iso``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid as uuid_lib
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from chat.payloads import attachment_body
from media.models import Status as MediaStatus
from media.services import media_signed_urls
from meetnow.lib.errors import NotFoundError
from meetnow.lib.timestamps import iso

MAX_ID = 2**63 - 1

# ``meetnow.lib.timestamps.iso`` in SQL: ``datetime.isoformat`` writes the microseconds
# unless they are zero; the connection's time zone plays no part.
_PG_ISO = (
    "replace(to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"
)

# The page's ids come from the (conversation, id) index alone, between two row
# comparisons that position its scan at the page (see chat.selectors.message_history
# for why not "id < N"); the conversation id comes from the membership row, so a
# stranger's request finds no row at all (404). It is a scalar subquery, not a join:
# PostgreSQL then evaluates it once and uses it as an index condition (joined, the row
# comparisons became a filter over a backward scan from the conversation's end: 60 ms
# in the middle of 100,000 messages). The outer join keeps the membership row for an
# empty page.
_HISTORY_SQL = """
WITH me AS (
    SELECT m.conversation_id AS cid
    FROM chat_membership m JOIN chat_conversation c ON c.id = m.conversation_id
    WHERE c.uuid = %(conversation)s AND m.user_id = %(user)s AND m.left_at IS NULL
), page AS (
    SELECT msg.id
    FROM chat_message msg
    WHERE (msg.conversation_id, msg.id) > ((SELECT cid FROM me), %(low)s)
      AND (msg.conversation_id, msg.id) < ((SELECT cid FROM me), %(high)s)
      AND NOT EXISTS (SELECT 1 FROM chat_messagehidden h
                      WHERE h.user_id = %(user)s AND h.message_id = msg.id)
    ORDER BY msg.conversation_id {direction}, msg.id {direction}
    LIMIT %(limit)s
)
SELECT me.cid, msg.id, {sender}, {client_id}, msg.kind, msg.text, msg.system,
       {created_at}, {edited_at},
       msg.recalled_at IS NOT NULL, msg.moderated_at IS NOT NULL,
       f.uuid, f.kind, f.status, f.duration_ms, f.width, f.height, f.variants
FROM me
LEFT JOIN page ON 1 = 1
LEFT JOIN chat_message msg ON msg.id = page.id
LEFT JOIN accounts_user u ON u.id = msg.sender_id
LEFT JOIN media_mediafile f ON f.id = msg.attachment_id
ORDER BY msg.id DESC
"""


@cache
def _statement(vendor: str, direction: str) -> str:
    if vendor == "postgresql":
        return _HISTORY_SQL.format(
            direction=direction,
            sender="u.uuid::text",
            client_id="msg.client_id::text",
            created_at=_PG_ISO.format("msg.created_at"),
            edited_at=_PG_ISO.format("msg.edited_at"),
        )
    return _HISTORY_SQL.format(
        direction=direction,
        sender="u.uuid",
        client_id="msg.client_id",
        created_at="msg.created_at",
        edited_at="msg.edited_at",
    )


@dataclass(frozen=True)
class HistoryPayloads:
    results: list[dict[str, Any]]
    has_more: bool


def _when(value: Any) -> str | None:
    """A stored time as the API writes it (SQLite hands back text without an offset)."""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    if value is not None and value.tzinfo is None:  # stored as UTC
        value = value.replace(tzinfo=dt.UTC)
    return iso(value)


def _uuid_text(value: Any) -> str | None:
    return None if value is None else str(uuid_lib.UUID(str(value)))


def _as_postgresql_gives(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row of another database as PostgreSQL's statement gives it (text uuids and
    times, booleans, the file's uuid as a UUID)."""
    (cid, mid, sender, client_id, kind, text, system, created, edited, recalled, moderated,
     f_uuid, *file_rest) = row  # fmt: skip
    return (
        cid,
        mid,
        _uuid_text(sender),
        _uuid_text(client_id),
        kind,
        text,
        system,
        _when(created),
        _when(edited),
        bool(recalled),
        bool(moderated),
        None if f_uuid is None else uuid_lib.UUID(str(f_uuid)),
        *file_rest,
    )


def history_page_payloads(
    *,
    user_id: int,
    conversation_uuid: Any,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> HistoryPayloads:
    """The page as the REST API answers it; 404 for a conversation the user is not an
    active member of (or that does not exist). One query, attachments included."""
    try:
        conv_uuid = uuid_lib.UUID(str(conversation_uuid))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Conversation not found.")) from None
    limit = max(1, min(limit, 100))
    if after is not None:
        low, high, direction = max(min(int(after), MAX_ID), -MAX_ID), MAX_ID, "ASC"
    else:
        bound = before if before is not None else MAX_ID
        low, high, direction = -MAX_ID, max(min(int(bound), MAX_ID), -MAX_ID), "DESC"
    vendor = connection.vendor
    postgresql = vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            _statement(vendor, direction),
            {
                "conversation": conv_uuid if postgresql else conv_uuid.hex,
                "user": user_id,
                "low": low,
                "high": high,
                "limit": limit + 1,
            },
        )
        rows = cursor.fetchall()
    if not rows:
        raise NotFoundError(_("Conversation not found."))
    rows = [row for row in rows if row[1] is not None]
    has_more = len(rows) > limit
    # Newest first; of one row too many, drop the one beyond the page's far end.
    rows = rows[1:] if has_more and after is not None else rows[:limit]
    if not postgresql:
        rows = [_as_postgresql_gives(row) for row in rows]
    return HistoryPayloads(results=_payloads(rows, str(conv_uuid)), has_more=has_more)


def _payloads(rows: list[Any], conversation: str) -> list[dict[str, Any]]:
    ready = MediaStatus.READY
    # Every file of the page signed in one go, taken in the same order below.
    signed = [
        (row[11], _variants(row[17]))
        for row in rows
        if row[11] is not None and row[13] == ready and not (row[9] or row[10])
    ]
    urls = iter(media_signed_urls(files=signed) if signed else ())
    results = []
    for row in rows:
        (_cid, mid, sender, client_id, kind, text, system, created, edited, recalled,
         moderated, f_uuid) = row[:12]  # fmt: skip
        if recalled or moderated:
            text, system, attachment = "", None, None
        else:
            if system is not None and isinstance(system, str):
                system = json.loads(system)
            attachment = (
                None
                if f_uuid is None
                # uuid, kind, status, duration_ms, width, height
                else attachment_body(*row[11:17], urls=next(urls) if row[13] == ready else {})
            )
        results.append(
            {
                "id": mid,
                "conversation": conversation,
                "sender": sender,
                "client_id": client_id,
                "kind": kind,
                "text": text,
                "system": system,
                "attachment": attachment,
                "created_at": created,
                "edited_at": edited,
                "recalled": recalled,
                "removed_by_moderator": moderated,
            }
        )
    return results


def _variants(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return dict(loaded or {})
