"""Reports of posts and comments (P8): evidence kept after delete, moderators take down."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.services import staff_create
from dating.models import PostReport
from media.models import MediaFile
from staff.roles import MODERATORS, roles_sync
from tests.chat.conftest import admin_client_for
from tests.factories.chat import make_user
from tests.factories.dating import make_post
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/dating/posts"
REPORTS = "/api/v1/dating/reports"
QUEUE = "/admin/dating/postreport/"


@pytest.fixture
def moderator_client() -> Client:
    moderator = staff_create(username="mod", password="x-Very-long-pass-123")
    roles_sync()
    moderator.groups.add(Group.objects.get(name=MODERATORS))
    return admin_client_for(moderator)


def test_a_reported_post_keeps_its_evidence_after_the_author_deletes_it(
    moderator_client: Client,
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice, caption="buy my crypto", photos=1)
    files = set(MediaFile.objects.filter(owner=alice).values_list("pk", flat=True))
    bob_api = api_client_for(bob)
    response = bob_api.post(
        REPORTS, {"reason": "spam", "post": str(post.uuid), "details": "scam"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "open"
    assert api_client_for(alice).delete(f"{POSTS}/{post.uuid}").status_code == 204

    # Gone for everyone, but the moderator still has the caption and the files.
    assert bob_api.get(f"{POSTS}/{post.uuid}").status_code == 404
    assert set(MediaFile.objects.filter(owner=alice).values_list("pk", flat=True)) == files
    listing = moderator_client.get(f"{QUEUE}?status__exact=open")
    assert listing.status_code == 200
    assert b"buy my crypto" not in listing.content  # no reported text in lists (P18)
    report = PostReport.objects.get()
    page = moderator_client.get(f"{QUEUE}{report.pk}/change/").content
    assert b"buy my crypto" in page
    assert b"/api/v1/media/download/" in page  # signed links to the clip and photo

    resolved = moderator_client.post(
        QUEUE, {"action": "resolve_no_action", "_selected_action": [report.pk]}
    )
    assert resolved.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.outcome, report.evidence_text) == ("resolved", "no_action", "")
    # Resolved: the deleted post's files go now.
    assert not MediaFile.objects.filter(owner=alice).exists()
    mine = bob_api.get(REPORTS).json()["results"]
    assert [(r["id"], r["outcome"]) for r in mine] == [(str(report.uuid), "no_action")]


def test_moderator_takes_a_post_down(moderator_client: Client) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    api_client_for(bob).post(REPORTS, {"reason": "sexual", "post": str(post.uuid)}, format="json")
    report = PostReport.objects.get()
    moderator_client.post(QUEUE, {"action": "resolve_take_down", "_selected_action": [report.pk]})
    assert api_client_for(bob).get(POSTS).json()["results"] == []
    assert api_client_for(bob).get(f"{POSTS}/{post.uuid}").status_code == 404
    mine = api_client_for(alice).get(f"{POSTS}/{post.uuid}").json()
    assert mine["state"] == "taken_down"
    assert mine["voice"] is None
    events = api_client_for(alice).get("/api/v1/sync", {"since": 0}).json()["events"]
    assert events[-1]["type"] == "dating.post_updated"
    assert events[-1]["state"] == "taken_down"


def test_reported_comment_taken_down_from_the_post_admin_too(moderator_client: Client) -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    post = make_post(alice)
    comment = (
        api_client_for(bob)
        .post(f"{POSTS}/{post.uuid}/comments", {"text": "rude words"}, format="json")
        .json()
    )
    report = api_client_for(carol).post(
        REPORTS,
        {"reason": "harassment", "post": str(post.uuid), "comment": comment["id"]},
        format="json",
    )
    assert report.status_code == 201
    # Bob deletes it: the report still holds the text.
    api_client_for(bob).delete(f"{POSTS}/{post.uuid}/comments/{comment['id']}")
    stored = PostReport.objects.get()
    assert stored.evidence_text == "rude words"
    assert stored.comment_id is None

    second = (
        api_client_for(bob)
        .post(f"{POSTS}/{post.uuid}/comments", {"text": "more rude words"}, format="json")
        .json()
    )
    from dating.models import PostComment

    target = PostComment.objects.get(uuid=second["id"])
    response = moderator_client.post(
        "/admin/dating/postcomment/", {"action": "take_down", "_selected_action": [target.pk]}
    )
    assert response.status_code == 302
    assert api_client_for(carol).get(f"{POSTS}/{post.uuid}/comments").json()["results"] == []
    own = api_client_for(bob).get(f"{POSTS}/{post.uuid}/comments").json()["results"]
    assert [(c["text"], c["taken_down"]) for c in own] == [("more rude words", True)]
    assert api_client_for(carol).get(f"{POSTS}/{post.uuid}").json()["comment_count"] == 0


def test_report_input_is_checked() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    api = api_client_for(bob)
    bad = api.post(REPORTS, {"reason": "boring", "post": str(post.uuid)}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["param"] == "reason"
    own = api_client_for(alice).post(
        REPORTS, {"reason": "spam", "post": str(post.uuid)}, format="json"
    )
    assert own.json()["errors"][0]["code"] == "cannot_report_self"
    missing = api.post(
        REPORTS,
        {"reason": "spam", "post": str(post.uuid), "comment": str(post.uuid)},
        format="json",
    )
    assert missing.status_code == 404


def test_moderators_see_the_post_reports_queue_on_the_dashboard(moderator_client: Client) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice)
    api_client_for(bob).post(REPORTS, {"reason": "spam", "post": str(post.uuid)}, format="json")
    page = moderator_client.get("/admin/").content.decode()
    assert "Open reports of voice posts" in page
