"""Voice posts and privacy (P4, P13, P15): export contents, erasure with counts
corrected, retention of deleted posts and listen records."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.conf import LazySettings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from dating import services
from dating.models import PostComment, PostLike, PostListen, PostReport, VoicePost
from media.models import MediaFile
from media.services import media_file_process, media_file_upload
from privacy.lifecycle import erasures_start_due, request_create
from privacy.models import PrivacyRequest
from privacy.retention import retention_purge
from tests.factories.chat import make_user
from tests.factories.dating import make_post
from tests.factories.media import photo, raw_amr
from tests.factories.privacy import run_erasure, run_export, storage_keys

pytestmark = pytest.mark.django_db


def _real_post(author: User, *, caption: str = "my voice") -> VoicePost:
    clip = media_file_upload(
        owner=author, purpose="dating_voice", upload=ContentFile(raw_amr(2.0), name="x")
    )
    picture = media_file_upload(
        owner=author, purpose="dating_photo", upload=ContentFile(photo(), name="x")
    )
    for media_file in (clip, picture):
        media_file_process(media_file_id=media_file.pk)
    return services.post_publish(
        author=author, voice=clip.uuid, caption=caption, photos=[picture.uuid]
    )


def test_export_holds_posts_with_their_files_comments_likes_and_listens() -> None:
    me, other = make_user("me"), make_user("other")
    post = _real_post(me)
    theirs = make_post(other)
    services.post_like(user=me, post_uuid=theirs.uuid)
    services.post_listened(user=me, post_uuid=theirs.uuid)
    services.comment_create(user=me, post_uuid=theirs.uuid, text="nice one")
    services.comment_create(user=other, post_uuid=post.uuid, text="not mine to export")
    services.post_like(user=other, post_uuid=post.uuid)

    export = request_create(user=me, kind="access", identity_confirmed=True)
    assert run_export(export) == "done"
    export.refresh_from_db()
    with default_storage.open(export.archive_key, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    posts = json.loads(archive.read("dating_posts.json"))
    assert [(p["uuid"], p["caption"], p["like_count"]) for p in posts] == [
        (str(post.uuid), "my voice", 1)
    ]
    voice = post.voice
    assert voice is not None
    names = archive.namelist()
    # The clip and the photo themselves are in the archive.
    assert any(n.startswith(f"files/{voice.uuid}") for n in names)
    assert any(n.startswith(f"files/{posts[0]['photos'][0]}") for n in names)
    comments = json.loads(archive.read("dating_comments.json"))
    assert [c["text"] for c in comments] == ["nice one"]
    assert json.loads(archive.read("dating_likes.json"))[0]["post"] == str(theirs.uuid)
    assert json.loads(archive.read("dating_listens.json"))[0]["post"] == str(theirs.uuid)
    assert "not mine to export" not in json.dumps(
        [json.loads(archive.read(n)) for n in names if n.endswith(".json")]
    )


def test_erasure_removes_posts_files_comments_likes_and_corrects_counts() -> None:
    me, other, third = make_user("me"), make_user("other"), make_user("third")
    post = _real_post(me)
    assert post.voice is not None
    keys = storage_keys(post.voice)
    assert keys
    theirs = make_post(other)
    services.post_like(user=me, post_uuid=theirs.uuid)
    services.post_like(user=third, post_uuid=theirs.uuid)
    services.post_listened(user=me, post_uuid=theirs.uuid)
    services.comment_create(user=me, post_uuid=theirs.uuid, text="bye")
    services.comment_create(user=third, post_uuid=theirs.uuid, text="stays")
    services.comment_create(user=other, post_uuid=post.uuid, text="on an erased post")
    services.post_like(user=other, post_uuid=post.uuid)
    from dating.reports import post_report_create

    post_report_create(reporter=me, reason="spam", post_uuid=theirs.uuid)
    post_report_create(reporter=other, reason="spam", post_uuid=post.uuid)

    erasure = request_create(user=me, kind="erasure", identity_confirmed=True)
    PrivacyRequest.objects.filter(pk=erasure.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)
    )
    assert erasures_start_due() == [erasure.pk]
    assert run_erasure(erasure) == "done"

    assert not VoicePost.objects.filter(author_id=me.pk).exists()
    assert not MediaFile.objects.filter(owner_id=me.pk).exists()
    assert all(not default_storage.exists(k) for k in keys)
    assert not PostLike.objects.filter(user_id=me.pk).exists()
    assert list(PostComment.objects.values_list("text", flat=True)) == ["stays"]
    theirs.refresh_from_db()
    assert (theirs.like_count, theirs.comment_count, theirs.listen_count) == (1, 1, 0)
    assert PostLike.objects.count() == 1
    assert PostListen.objects.count() == 0
    reports = PostReport.objects.order_by("pk")
    assert [(r.reporter_id, r.reported_user_id) for r in reports] == [
        (None, other.pk),
        (other.pk, None),
    ]
    assert reports[1].evidence_text == ""
    assert reports[1].evidence_files == []


def test_retention_purges_deleted_posts_and_old_listen_records(settings: LazySettings) -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    old = make_post(alice)
    held = make_post(alice)
    young = make_post(alice)
    kept = make_post(alice)
    services.post_listened(user=bob, post_uuid=kept.uuid)
    services.post_listened(user=carol, post_uuid=kept.uuid)
    from dating.reports import post_report_create

    post_report_create(reporter=bob, reason="spam", post_uuid=held.uuid)
    for post in (old, held, young):
        services.post_delete(user=alice, post_uuid=post.uuid)
    now = timezone.now()
    VoicePost.objects.filter(pk__in=[old.pk, held.pk]).update(
        deleted_at=now - dt.timedelta(days=31)
    )
    PostListen.objects.filter(user=bob).update(created_at=now - dt.timedelta(days=91))

    counts = retention_purge(now=now)
    assert counts["dating_deleted_posts"] == 1
    assert counts["dating_listens"] == 1
    assert not VoicePost.objects.filter(pk=old.pk).exists()
    assert VoicePost.objects.filter(pk=held.pk).exists()  # an open report holds it
    assert VoicePost.objects.filter(pk=young.pk).exists()
    kept.refresh_from_db()
    assert kept.listen_count == 2  # the count keeps the dropped record
    assert list(PostListen.objects.values_list("user_id", flat=True)) == [carol.pk]
    # Carol can't count twice; Bob, forgotten after 90 days, counts again if he plays it.
    services.post_listened(user=carol, post_uuid=kept.uuid)
    assert VoicePost.objects.get(pk=kept.pk).listen_count == 2
    assert retention_purge(now=now)["dating_deleted_posts"] == 0
