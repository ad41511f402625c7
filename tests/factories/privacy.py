"""Builders for privacy tests: identity confirmation, a user with history, job runners."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.files.storage import default_storage

from accounts.models import Device, SecurityEvent, SmsDelivery, User
from chat.models import MessageHidden, Report
from media.models import MediaFile
from media.services import media_file_process
from privacy.erasure import erasure_run
from privacy.export import export_build
from privacy.models import PrivacyRequest
from tests.factories.chat import make_device, make_direct, make_group, make_user, send
from tests.factories.media import MediaFileFactory

AUTH_RECORDS = "account_authentication_methods"
AUTH_RECORDS_USER = "account_authentication_methods_user"


def confirm_identity(token: str, user: User, *, at: float | None = None) -> None:
    """What allauth's reauthenticate-by-code confirm writes into the token's session."""
    session = SessionStore(session_key=token)
    records = list(session.get(AUTH_RECORDS) or [])
    records.append({"method": "code", "at": at or time.time(), "reauthenticated": True})
    session[AUTH_RECORDS] = records
    session[AUTH_RECORDS_USER] = str(user.pk)
    session.save()


def ready_file(owner: User, **kwargs: Any) -> MediaFile:
    media_file: MediaFile = MediaFileFactory.create(owner=owner, **kwargs)
    media_file_process(media_file_id=media_file.pk)
    media_file.refresh_from_db()
    return media_file


def storage_keys(media_file: MediaFile) -> list[str]:
    """Every stored object of a file (upload, original, derivatives) that exists now."""
    keys = {media_file.upload_key} | {
        v["key"] for v in (media_file.variants or {}).values() if isinstance(v, dict)
    }
    try:
        _dirs, names = default_storage.listdir(f"f/{media_file.storage_prefix}")
    except FileNotFoundError:
        names = []
    keys |= {f"f/{media_file.storage_prefix}/{n}" for n in names}
    return sorted(k for k in keys if k and default_storage.exists(k))


def user_with_history(*, messages: int = 6, files: int = 2) -> dict[str, Any]:
    """A user with conversations, messages both ways, files, a device, reports."""
    me = make_user("me")
    friend = make_user("friend")
    stranger = make_user("stranger")
    other_a = make_user("other_a")
    direct = make_direct(me, friend)
    group = make_group(me, friend, other_a, title="Trip")
    private = make_direct(friend, stranger)  # me is not in it
    mine = []
    theirs = []
    for i in range(messages):
        mine.append(send(me, direct, f"my secret {i}"))
        theirs.append(send(friend, direct, f"friend says {i}"))
    send(other_a, group, "group hello")
    send(me, group, "my group hello")
    send(stranger, private, "not for me")
    hidden = send(friend, direct, "hidden by me")
    MessageHidden.objects.create(user=me, message=hidden)
    device = make_device(me, ip_address="203.0.113.9")
    SecurityEvent.objects.create(user=me, kind="login_succeeded", ip_address="203.0.113.9")
    SmsDelivery.objects.create(
        masked_phone="+86***1234", purpose="login", user=me, channel="sms", backend="locmem"
    )
    report_made = Report.objects.create(reporter=me, reported_user=stranger, reason="spam")
    report_about = Report.objects.create(
        reporter=friend,
        reported_user=me,
        message=mine[0],
        reason="harassment",
        evidence_text=mine[0].text,
    )
    media = [ready_file(me) for _ in range(files)]
    friend_file = ready_file(friend)
    return {
        "me": me,
        "friend": friend,
        "stranger": stranger,
        "direct": direct,
        "group": group,
        "private": private,
        "mine": mine,
        "theirs": theirs,
        "hidden": hidden,
        "device": device,
        "report_made": report_made,
        "report_about": report_about,
        "files": media,
        "friend_file": friend_file,
    }


def run_erasure(privacy_request: PrivacyRequest) -> str:
    result = "more"
    for _ in range(1000):
        result = erasure_run(request_id=privacy_request.pk)
        if result != "more":
            break
    return result


def run_export(privacy_request: PrivacyRequest) -> str:
    result = "more"
    for _ in range(1000):
        result = export_build(request_id=privacy_request.pk)
        if result != "more":
            break
    return result


__all__ = [
    "Device",
    "confirm_identity",
    "make_user",
    "ready_file",
    "run_erasure",
    "run_export",
    "storage_keys",
    "user_with_history",
]
