"""A page of history as JSON-ready dicts, in one query with the membership check.

The hot read of the app (every conversation it opens). Built with the ORM it cost
two queries (membership, then the page), the compilation of both, and a Message
instance per row before the payload was built from it; here one statement checks
membership and fetches the page with each sender's uuid, and the payloads are built
from the rows. Same shape as ``chat.payloads.message_payload`` (a test compares
them), same page rules as ``chat.selectors.message_history``: newest first, the
``limit`` messages just before ``before``, or just after ``after``, or the latest;
messages the user deleted for themself left out.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid as uuid_lib
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from chat.payloads import attachment_payload
from media.models import MediaFile
from meetnow.lib.errors import NotFoundError

MAX_ID = 2**63 - 1

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
SELECT me.cid, msg.id, u.uuid, msg.client_id, msg.kind, msg.text, msg.system,
       msg.attachment_id, msg.created_at, msg.edited_at,
       msg.recalled_at IS NOT NULL, msg.moderated_at IS NOT NULL
FROM me
LEFT JOIN page ON 1 = 1
LEFT JOIN chat_message msg ON msg.id = page.id
LEFT JOIN accounts_user u ON u.id = msg.sender_id
ORDER BY msg.id DESC
"""


@dataclass(frozen=True)
class HistoryPayloads:
    results: list[dict[str, Any]]
    has_more: bool


def _when(value: Any) -> str | None:
    """A stored time as the API writes it (SQLite hands back text, PostgreSQL datetimes)."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    if value.tzinfo is None:  # SQLite stores UTC without an offset
        value = value.replace(tzinfo=dt.UTC)
    return str(value.isoformat().replace("+00:00", "Z"))


def _uuid(value: Any) -> str | None:
    if value is None:
        return None
    return str(value if isinstance(value, uuid_lib.UUID) else uuid_lib.UUID(str(value)))


def history_page_payloads(
    *,
    user_id: int,
    conversation_uuid: Any,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> HistoryPayloads:
    """The page as the REST API answers it; 404 for a conversation the user is not an
    active member of (or that does not exist). One query, plus one for the files of
    the page's attachments when it has any."""
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
    uuid_param: Any = conv_uuid if connection.vendor == "postgresql" else conv_uuid.hex
    with connection.cursor() as cursor:
        cursor.execute(
            _HISTORY_SQL.format(direction=direction),
            {
                "conversation": uuid_param,
                "user": user_id,
                "low": low,
                "high": high,
                "limit": limit + 1,
            },
        )
        rows = list(cursor.fetchall())
    if not rows:
        raise NotFoundError(_("Conversation not found."))
    rows = [row for row in rows if row[1] is not None]
    has_more = len(rows) > limit
    # Newest first; of one row too many, drop the one beyond the page's far end.
    rows = rows[1:] if has_more and after is not None else rows[:limit]
    files: dict[int, MediaFile] = {}
    attachment_ids = [row[7] for row in rows if row[7] is not None]
    if attachment_ids:
        files = MediaFile.objects.in_bulk(attachment_ids)
    conv = str(conv_uuid)
    results = []
    for (
        _conversation_id,
        mid,
        sender,
        client_id,
        kind,
        text,
        system,
        attachment_id,
        created,
        edited,
        recalled,
        moderated,
    ) in rows:
        removed = bool(recalled) or bool(moderated)
        if isinstance(system, str):
            system = json.loads(system)
        media_file = files.get(attachment_id) if attachment_id is not None else None
        results.append(
            {
                "id": mid,
                "conversation": conv,
                "sender": _uuid(sender),
                "client_id": _uuid(client_id),
                "kind": kind,
                "text": "" if removed else text,
                "system": None if removed else system,
                "attachment": (
                    attachment_payload(media_file)
                    if media_file is not None and not removed
                    else None
                ),
                "created_at": _when(created),
                "edited_at": _when(edited),
                "recalled": bool(recalled),
                "removed_by_moderator": bool(moderated),
            }
        )
    return HistoryPayloads(results=results, has_more=has_more)
