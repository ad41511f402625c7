"""The texts of the in-app notices (P13, P17), written when they are read.

A :class:`~accounts.models.Notice` keeps a ``kind`` code and its ``params``; the app
that creates a kind (privacy, support: layers above accounts) registers how it reads
with :func:`notice_kind_register` when it loads. The text is made in the active
language (the request's, or the user's for a push), so the same notice reads in
Chinese today and in English after the user switches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import Notice


@dataclass(frozen=True)
class NoticeText:
    """What a person reads: a short ``title`` (safe on a lock screen: no personal
    value), the ``body``, a ``link`` (a path on this site) when the notice has one, and
    the ``subject``: the uuid of the request or ticket it is about (the app opens it)."""

    title: str
    body: str
    link: str | None = None
    subject: str | None = None


NoticeRenderer = Callable[[Mapping[str, Any]], NoticeText]

_RENDERERS: dict[str, NoticeRenderer] = {}


def notice_kind_register(kind: str, renderer: NoticeRenderer) -> None:
    """Declare how notices of ``kind`` read (called by the owning app's ``ready``)."""
    _RENDERERS[kind] = renderer


def notice_kinds() -> list[str]:
    return sorted(_RENDERERS)


def notice_text(notice: Notice) -> NoticeText:
    """The notice's text in the active language."""
    renderer = _RENDERERS.get(notice.kind)
    if renderer is None:  # a kind retired since: still readable
        return NoticeText(title=_("MeetNow"), body=_("Open the app for details."))
    return renderer(notice.params or {})
