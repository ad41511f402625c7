"""Erasure (P13, P18): nothing of the user left in any registered model or in storage,
tombstones for others, idempotent and resumable chunks, legal hold, grace cancellation,
ledger re-application after a restore."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import LazySettings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from accounts.models import Block, SecurityEvent, User
from accounts.services import staff_create
from chat.models import Conversation, Message, MessageVersion, Report
from media.models import MediaFile
from privacy.erasure import (
    erasure_leftovers,
    erasure_run,
    ledger_matches,
    subject_hash,
)
from privacy.lifecycle import (
    erasures_start_due,
    jobs_resume_stalled,
    request_create,
    request_hold_lift,
    request_hold_place,
)
from privacy.models import (
    ErasureLedgerEntry,
    ErasureStep,
    PrivacyRequest,
    RequestStatus,
)
from privacy.registry import get_registry
from tests.factories.chat import make_user
from tests.factories.privacy import run_erasure, storage_keys, user_with_history

pytestmark = pytest.mark.django_db
S = RequestStatus


def _due(privacy_request: PrivacyRequest) -> PrivacyRequest:
    """Jump past the cooling-off period and start the job as the beat task would."""
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)
    )
    assert erasures_start_due() == [privacy_request.pk]
    privacy_request.refresh_from_db()
    assert privacy_request.status == S.IN_PROCESSING
    return privacy_request


def _erasure_for(user: User) -> PrivacyRequest:
    return request_create(user=user, kind="erasure", identity_confirmed=True)


def test_erasure_leaves_nothing_of_the_user(settings: LazySettings) -> None:
    settings.MEETNOW_PRIVACY_CHUNK_SIZE = 3  # many chunks even for a small history
    world = user_with_history(messages=5, files=2)
    me, friend = world["me"], world["friend"]
    uid = me.pk
    MessageVersion.objects.create(message=world["mine"][1], text="an earlier secret")
    Block.objects.create(blocker=friend, blocked=me)
    my_keys = [k for f in world["files"] for k in storage_keys(f)]
    assert len(my_keys) >= 4  # originals and derivatives
    friend_keys = storage_keys(world["friend_file"])
    mine_ids = [m.pk for m in world["mine"]]
    theirs_ids = [m.pk for m in world["theirs"]]

    privacy_request = _due(_erasure_for(me))
    assert run_erasure(privacy_request) == "done"
    privacy_request.refresh_from_db()
    assert privacy_request.status == S.COMPLETE
    assert privacy_request.user is None

    # Every registered model: nothing tied to the user.
    assert erasure_leftovers(user_id=uid) == {}
    assert not User.objects.filter(pk=uid).exists()
    # Storage: every object of every file (original, derivatives, upload) is gone.
    assert [k for k in my_keys if default_storage.exists(k)] == []
    assert not MediaFile.objects.filter(pk__in=[f.pk for f in world["files"]]).exists()
    assert all(default_storage.exists(k) for k in friend_keys)
    # Messages the user sent: tombstones. Messages others sent: untouched.
    for message in Message.objects.filter(pk__in=mine_ids):
        assert message.sender_id is None
        assert message.text == ""
        assert message.client_id is None
    assert not MessageVersion.objects.filter(message_id__in=mine_ids).exists()
    assert list(
        Message.objects.filter(pk__in=theirs_ids).values_list("sender_id", flat=True).distinct()
    ) == [friend.pk]
    # Reports: kept, without the erased user's identifying fields.
    made = Report.objects.get(pk=world["report_made"].pk)
    assert made.reporter_id is None
    about = Report.objects.get(pk=world["report_about"].pk)
    assert about.reported_user_id is None
    assert about.evidence_text == ""
    assert about.reporter_id == friend.pk
    # The direct conversation stays for the friend; its key no longer holds the id.
    direct = Conversation.objects.get(pk=world["direct"].pk)
    assert str(uid) not in (direct.direct_key or "").split(":")
    # Security events kept pseudonymised until their retention ends.
    assert not SecurityEvent.objects.filter(user_id=uid).exists()
    # Step log: model, action, count; never values.
    steps = {(s.model, s.action): s.count for s in privacy_request.steps.all()}
    assert steps[("chat.Message", "tombstone")] == len(mine_ids) + 1  # + the group message
    assert steps[("media.MediaFile", "delete")] == 2
    assert steps[("accounts.User", "delete")] == 1
    # Ledger: salted hashes only.
    entry = ErasureLedgerEntry.objects.get()
    assert entry.user_hash == subject_hash("user", uid)
    assert entry.user_hash != str(uid)
    assert str(me.phone) not in str(entry.__dict__)


def test_erasure_is_idempotent_and_resumes_from_its_cursor(settings: LazySettings) -> None:
    settings.MEETNOW_PRIVACY_CHUNK_SIZE = 2
    world = user_with_history(messages=6, files=1)
    privacy_request = _due(_erasure_for(world["me"]))
    # Run a few chunks, then simulate a crash: the worker's lease is simply lost.
    steps_total = len(get_registry().erase_steps)
    settings.MEETNOW_PRIVACY_TASK_BUDGET = 0
    assert erasure_run(request_id=privacy_request.pk, budget=0) == "more"
    privacy_request.refresh_from_db()
    assert 0 < privacy_request.cursor["step"] < steps_total
    # A second worker can't take a job whose lease is alive.
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        lease_token="dead-worker", lease_until=timezone.now() + dt.timedelta(minutes=5)
    )
    assert erasure_run(request_id=privacy_request.pk) == "skipped"
    # The lease expires; the beat resumes the job; it finishes, counting nothing twice.
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert jobs_resume_stalled() == [privacy_request.pk]
    assert run_erasure(privacy_request) == "done"
    counts = {
        (s.model, s.action): s.count for s in ErasureStep.objects.filter(request=privacy_request)
    }
    assert counts[("chat.Message", "tombstone")] == 7
    # Running again after completion does nothing.
    assert erasure_run(request_id=privacy_request.pk) == "skipped"


def test_legal_hold_pauses_erasure_visibly() -> None:
    staff = staff_create(username="dpo", password="x-long-password-1")
    world = user_with_history(messages=2, files=0)
    privacy_request = _erasure_for(world["me"])
    request_hold_place(privacy_request=privacy_request, actor=staff, reason="open abuse report")
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)
    )
    assert erasures_start_due() == []  # held: not started
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(status=S.IN_PROCESSING)
    assert erasure_run(request_id=privacy_request.pk) == "skipped"
    assert User.objects.filter(pk=world["me"].pk).exists()
    privacy_request.refresh_from_db()
    assert privacy_request.on_legal_hold
    request_hold_lift(privacy_request=privacy_request, actor=staff, reason="report closed")
    assert run_erasure(privacy_request) == "done"
    assert not User.objects.filter(pk=world["me"].pk).exists()


def test_erasure_without_account_completes() -> None:
    user = make_user()
    privacy_request = _due(_erasure_for(user))
    User.objects.filter(pk=user.pk).delete()
    assert run_erasure(privacy_request) == "done"


def test_ledger_reapplies_erasures_after_a_restore(settings: LazySettings) -> None:
    world = user_with_history(messages=2, files=1)
    me = world["me"]
    snapshot = {"pk": me.pk, "phone": str(me.phone), "joined": me.date_joined}
    privacy_request = _due(_erasure_for(me))
    assert run_erasure(privacy_request) == "done"
    # "Restore" a backup taken before the erasure: the account and a message are back,
    # and the ledger table lost its newest entry (its copy in storage survived).
    restored = User.objects.create(
        pk=snapshot["pk"], phone=snapshot["phone"], phone_verified=True, nickname="me"
    )
    User.objects.filter(pk=restored.pk).update(date_joined=snapshot["joined"])
    Message.objects.create(
        conversation=world["direct"], sender=restored, kind="text", text="restored secret"
    )
    ErasureLedgerEntry.objects.all().delete()
    reused = make_user("new owner of a recycled number")
    assert [u.pk for u in ledger_matches()] == []  # before syncing from storage
    call_command("privacy_reapply_erasures")
    assert not User.objects.filter(pk=snapshot["pk"]).exists()
    assert not Message.objects.filter(sender_id=snapshot["pk"]).exists()
    assert User.objects.filter(pk=reused.pk).exists()
    entry = ErasureLedgerEntry.objects.get()
    assert entry.reapplied_at is not None


def test_ledger_phone_match_spares_newer_accounts() -> None:
    world = user_with_history(messages=1, files=0)
    me = world["me"]
    phone = str(me.phone)
    privacy_request = _due(_erasure_for(me))
    assert run_erasure(privacy_request) == "done"
    newcomer = User.objects.create(phone=phone, phone_verified=True, nickname="newcomer")
    assert newcomer not in ledger_matches()


def test_storage_that_keeps_a_file_fails_the_step_and_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from media.services import StorageNotEmptyError

    world = user_with_history(messages=1, files=1)
    privacy_request = _due(_erasure_for(world["me"]))
    from django.core.files.storage import FileSystemStorage

    monkeypatch.setattr(FileSystemStorage, "delete", lambda self, name: None)  # ignores us
    with pytest.raises(StorageNotEmptyError):
        erasure_run(request_id=privacy_request.pk)
    assert MediaFile.objects.filter(owner=world["me"]).exists()  # rows kept: retry later
    monkeypatch.undo()
    assert run_erasure(privacy_request) == "done"
    assert storage_keys(world["files"][0]) == []


def test_lock_closes_the_accounts_live_sockets(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    import asyncio

    from asgiref.sync import async_to_sync, sync_to_async
    from channels.layers import get_channel_layer

    from chat.events import user_group

    user = make_user()

    def erase() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            _erasure_for(user)

    async def scenario() -> dict[str, Any]:
        # One event loop throughout: a pub/sub layer's channels live in their loop.
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(user_group(user.pk), channel)
        await sync_to_async(erase)()
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    assert async_to_sync(scenario)() == {"type": "session.ended", "session_key": None}


def test_the_other_side_still_reads_the_conversation_after_erasure() -> None:
    from tests.helpers import api_client_for

    world = user_with_history(messages=3, files=1)
    privacy_request = _due(_erasure_for(world["me"]))
    assert run_erasure(privacy_request) == "done"
    friend = api_client_for(world["friend"])
    listed = friend.get("/api/v1/conversations")
    assert listed.status_code == 200, listed.content
    history = friend.get(f"/api/v1/conversations/{world['direct'].uuid}/messages")
    assert history.status_code == 200, history.content
    texts = [m["text"] for m in history.json()["results"]]
    assert "friend says 0" in texts
    assert not any(t.startswith("my secret") for t in texts)
    group = friend.get(f"/api/v1/conversations/{world['group'].uuid}")
    assert group.status_code == 200, group.content


def test_erasure_deletes_the_users_export_archives() -> None:
    from tests.factories.privacy import run_export

    world = user_with_history(messages=2, files=1)
    export = request_create(user=world["me"], kind="access", identity_confirmed=True)
    run_export(export)
    export.refresh_from_db()
    key = export.archive_key
    assert default_storage.exists(key)
    privacy_request = _due(_erasure_for(world["me"]))
    assert run_erasure(privacy_request) == "done"
    assert not default_storage.exists(key)
    export.refresh_from_db()
    assert export.archive_key == ""
    assert export.user_id is None
    steps = {(s.model, s.action): s.count for s in privacy_request.steps.all()}
    assert steps[("privacy.PrivacyRequest", "delete_archives")] == 1


def test_calls_are_exported_and_kept_for_the_other_side_without_the_user() -> None:
    import io
    import json
    import zipfile

    from chat.models import Call as call_model
    from tests.factories.privacy import run_export

    world = user_with_history(messages=1, files=0)
    me, friend = world["me"], world["friend"]
    call: Any = call_model._default_manager.create(
        conversation=world["direct"],
        caller=me,
        callee=friend,
        media="audio",
        state="ended",
        outcome="completed",
        duration_seconds=42,
    )
    export = request_create(user=me, kind="access", identity_confirmed=True)
    run_export(export)
    export.refresh_from_db()
    with default_storage.open(export.archive_key, "rb") as handle:
        calls = json.loads(zipfile.ZipFile(io.BytesIO(handle.read())).read("calls.json"))
    assert [c["uuid"] for c in calls] == [str(call.uuid)]
    assert calls[0]["direction"] == "outgoing"
    privacy_request = _due(_erasure_for(me))
    assert run_erasure(privacy_request) == "done"
    call.refresh_from_db()
    assert call.caller_id is None
    assert call.callee_id == friend.pk


def test_staff_actions_about_the_user_stay_audited_without_their_name() -> None:
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    world = user_with_history(messages=1, files=0)
    me = world["me"]
    moderator = staff_create(username="mod-erasure", password="x-Very-long-pass-123")
    entry = LogEntry.objects.create(
        user=moderator,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(me.pk),
        object_repr=str(me),
        action_flag=CHANGE,
        change_message=f"Banned {me.nickname}",
    )
    assert me.nickname in entry.object_repr
    privacy_request = _due(_erasure_for(me))
    assert run_erasure(privacy_request) == "done"
    entry.refresh_from_db()  # the staff action is still on record...
    assert entry.user == moderator
    assert me.nickname not in entry.object_repr  # ...but no longer names the user
    assert me.nickname not in entry.change_message
