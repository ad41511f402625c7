"""How privacy's notices read (P13, P17): registered with accounts' inbox when privacy
loads (``PrivacyConfig.ready``); written in the reader's language when read.

An export's "ready" notice gets its download link here, at read time: no link is
stored, and once the archive has expired the notice says so instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notices import NoticeText, notice_kind_register
from meetnow.lib.i18n import display
from privacy.export import export_download_path
from privacy.models import RequestKind
from privacy.transitions import NoticeKind


def _kind_label(params: Mapping[str, Any]) -> str:
    code = str(params.get("request_kind", ""))
    return str(RequestKind(code).label) if code in RequestKind.values else code


def _subject(params: Mapping[str, Any]) -> str | None:
    request = params.get("request")
    return str(request) if request else None


def _completed(params: Mapping[str, Any]) -> NoticeText:
    return NoticeText(
        title=_("Your privacy request is complete"),
        body=_("Your request “%(kind)s” is complete.") % {"kind": _kind_label(params)},
        subject=_subject(params),
    )


def _denied(params: Mapping[str, Any]) -> NoticeText:
    return NoticeText(
        title=_("Your privacy request was refused"),
        body=_("Your request “%(kind)s” was refused. Reason: %(reason)s")
        % {"kind": _kind_label(params), "reason": params.get("reason", "")},
        subject=_subject(params),
    )


def _canceled(params: Mapping[str, Any]) -> NoticeText:
    reason = params.get("reason")
    kind = _kind_label(params)
    if reason == "logged_in_during_grace_period":
        body = _("You signed in during the waiting period, so your account will not be deleted.")
    elif reason == "identity_not_verified":
        body = _("Your request “%(kind)s” was cancelled: your identity was not confirmed in time.")
    else:
        body = _("Your request “%(kind)s” was cancelled.")
    return NoticeText(
        title=_("Your privacy request was cancelled"),
        body=body % {"kind": kind},
        subject=_subject(params),
    )


def _duplicate(params: Mapping[str, Any]) -> NoticeText:
    return NoticeText(
        title=_("Your privacy request was closed"),
        body=_("Your request “%(kind)s” repeats one you already made; we answer that one.")
        % {"kind": _kind_label(params)},
        subject=_subject(params),
    )


def _export_ready(params: Mapping[str, Any]) -> NoticeText:
    title = _("Your data export is ready")
    try:
        expires_at = dt.datetime.fromisoformat(str(params.get("expires_at")))
    except ValueError:
        expires_at = None
    if expires_at is None or expires_at <= timezone.now():
        return NoticeText(
            title=title,
            body=_("The download link has expired. Ask for a new export in Settings."),
            subject=_subject(params),
        )
    return NoticeText(
        title=title,
        body=_("Download your data before %(expires)s.") % {"expires": display(expires_at)},
        link=export_download_path(request_uuid=str(params.get("request", ""))),
        subject=_subject(params),
    )


def notice_kinds_register() -> None:
    notice_kind_register(NoticeKind.COMPLETED, _completed)
    notice_kind_register(NoticeKind.DENIED, _denied)
    notice_kind_register(NoticeKind.CANCELED, _canceled)
    notice_kind_register(NoticeKind.DUPLICATE, _duplicate)
    notice_kind_register(NoticeKind.EXPORT_READY, _export_ready)
