"""How support's notices read (P17): registered with accounts' inbox when support
loads (``SupportConfig.ready``); written in the reader's language when read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from accounts.notices import NoticeText, notice_kind_register
from support.services import NoticeKind


def _subject(params: Mapping[str, Any]) -> str | None:
    ticket = params.get("ticket")
    return str(ticket) if ticket else None


def _answered(params: Mapping[str, Any]) -> NoticeText:
    return NoticeText(
        title=_("Support answered your request"),
        body=_("Open your request to read the answer."),
        subject=_subject(params),
    )


def _closed(params: Mapping[str, Any]) -> NoticeText:
    return NoticeText(
        title=_("Your support request is closed"),
        body=_("Support closed your request. If you still need help, write to us again."),
        subject=_subject(params),
    )


def notice_kinds_register() -> None:
    notice_kind_register(NoticeKind.ANSWERED, _answered)
    notice_kind_register(NoticeKind.CLOSED, _closed)
