"""The web client's dating screens in a real browser (issue 16, docs/dating.md).

Ana publishes a voice post (a real clip, processed by the worker); Bo finds it in the
feed, pages through its comments, likes it and likes Ana; Ana likes Bo back from "who
liked me": both see the match and its conversation opens. A second test pairs two
browsers in the voice match: the anonymous WebRTC call connects, both like, and both
learn who it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dating.models import Match, VoicePost
from dating.services import comment_create
from tests.e2e import test_web_client
from tests.e2e.test_web_client import SHOTS, png, signed_in_page, wait_or_explain
from tests.factories.chat import make_user
from tests.factories.media import audio_clip

browser = test_web_client.browser  # the same headless Chromium fixture


def test_a_voice_post_leads_to_a_like_a_like_back_a_match_and_a_conversation(
    celery_worker: Any, asgi_server: str, browser: Any, tmp_path: Path
) -> None:
    ana_user, bo_user = make_user("Ana"), make_user("Bo")
    log = tmp_path / "worker.log"
    SHOTS.mkdir(parents=True, exist_ok=True)
    ana = signed_in_page(browser, asgi_server, ana_user, "#/dating/mine")
    bo = signed_in_page(browser, asgi_server, bo_user, "#/dating/posts")

    # Ana publishes a 2-second clip with a caption and a photo.
    clip = tmp_path / "hello.m4a"
    clip.write_bytes(audio_clip("m4a", 2, tmp_path))
    wait_or_explain(ana, "#publish-form", log)
    ana.set_input_files("#post-voice-file", str(clip))
    ana.fill("#post-caption", "Hello from Ana")
    ana.set_input_files("#post-photos", str(png(tmp_path / "me.png")))
    ana.click("#publish")
    wait_or_explain(ana, "#my-posts article.post:has-text('Hello from Ana') audio", log, 90_000)
    published = VoicePost.objects.get(author=ana_user, caption="Hello from Ana")
    cy = make_user("Cy")  # one comment more than the client's first page
    for n in range(1, 22):
        comment_create(user=cy, post_uuid=published.uuid, text=f"Comment {n}")

    # Bo finds it in the feed, with its player and photo; likes the post, then Ana.
    bo.click("#tab-posts")
    post = "#feed article.post:has-text('Hello from Ana')"
    wait_or_explain(bo, f"{post} audio", log)
    assert bo.locator(f"{post} img.post-photo").count() == 1
    # Its comments: the newest 20, then the older ones with "Older comments".
    bo.click(f"{post} .show-comments")
    bo.wait_for_selector(f"{post} li.comment >> text=Comment 21")
    assert bo.locator(f"{post} li.comment").count() == 20
    bo.click(f"{post} .more-comments")
    oldest = bo.locator(f"{post} li.comment").nth(20)
    oldest.wait_for()
    assert "Comment 1 " in oldest.inner_text()
    assert bo.locator(f"{post} li.comment").count() == 21
    assert bo.locator(f"{post} .more-comments").count() == 0
    bo.click(f"{post} .show-comments")  # closed again
    bo.click(f"{post} .like-post")
    bo.wait_for_selector(f"{post} .like-post[aria-pressed=true] >> text=1")
    bo.click(f"{post} .like-person")
    bo.wait_for_selector(f"{post} >> text=You liked Ana")
    bo.screenshot(path=str(SHOTS / "voice-posts.png"))
    bo.click("#tab-matches")
    bo.wait_for_selector("#dating-matches >> text=No matches yet")

    # Ana sees Bo in "who liked me" and likes him back: a match, and its conversation;
    # Bo's matches list shows Ana at once (dating.matched on his socket).
    ana.click("#tab-likes")
    ana.click("#liked-me li:has-text('Bo') .like-back")
    ana.wait_for_selector("#match-made >> text=It is a match with Bo")
    bo.wait_for_selector("#matches li:has-text('Ana')")
    ana.click("#open-match-chat")
    ana.wait_for_selector("#chat")
    assert ana.locator("#request-pending").count() == 0  # a match is no message request
    ana.fill("#composer-text", "We matched!")
    ana.click("#send")

    # Bo opens the same conversation from his matches: the text is there.
    bo.click("#matches li:has-text('Ana') .open-chat")
    bo.wait_for_selector("li.msg.theirs >> text=We matched!")
    assert Match.objects.count() == 1
    assert ana.js_errors == []
    assert bo.js_errors == []


def test_a_voice_match_in_two_browsers_connects_anonymously_and_reveals_on_mutual_like(
    asgi_server: str, browser: Any
) -> None:
    ana_user, bo_user = make_user("Ana"), make_user("Bo")
    ana = signed_in_page(browser, asgi_server, ana_user, "#/dating/voice")
    bo = signed_in_page(browser, asgi_server, bo_user, "#/dating/voice")
    for page in (ana, bo):
        wait_or_explain(page, "#vm-form", None)
        page.wait_for_selector("body[data-socket=open]")

    ana.click("#vm-start")
    ana.wait_for_selector("#vm-leave")  # waiting
    bo.click("#vm-start")
    # Paired: an anonymous audio call, peer to peer; neither page names the other.
    for page in (ana, bo):
        page.wait_for_selector("#call-state >> text=Connected", timeout=30_000)
        assert "Ana" not in page.inner_text("#incoming")
        assert "Bo" not in page.inner_text("#incoming")
    tracks = "() => document.getElementById('remote-media').srcObject.getAudioTracks().length"
    assert bo.evaluate(tracks) == 1

    # Ana likes during the call, then hangs up; Bo likes after it: the reveal.
    ana.click("#vm-like")
    ana.wait_for_selector("#incoming >> text=If they like you too")
    ana.click("#hangup")
    bo.wait_for_selector("#vm-like-after")
    bo.click("#vm-like-after")
    bo.wait_for_selector("#match-made >> text=It is a match with Ana")
    ana.wait_for_selector("#vm-session #match-made >> text=It is a match with Bo")
    assert ana.js_errors == []
    assert bo.js_errors == []
