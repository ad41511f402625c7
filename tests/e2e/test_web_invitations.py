"""A group invitation in the web client, in two real browsers (issues 15 and 16).

Ana creates a group with Bo, who is neither her match nor a chat partner: Bo is invited,
not added. His navigation badge counts the invitation as it arrives on his socket (on
another screen), he finds it above his conversations, joins, and the badge is gone;
then Ana's message reaches him in the group live.
"""

from __future__ import annotations

from typing import Any

from chat.models import Conversation, GroupInvitation, Membership
from tests.e2e import test_web_client
from tests.e2e.test_web_client import signed_in_page, wait_or_explain
from tests.factories.chat import make_user

browser = test_web_client.browser  # the same headless Chromium fixture


def test_an_invited_stranger_sees_the_badge_joins_the_group_and_gets_its_messages_live(
    asgi_server: str, browser: Any
) -> None:
    ana_user, bo_user = make_user("Ana"), make_user("Bo")
    ana = signed_in_page(browser, asgi_server, ana_user, "#/new")
    bo = signed_in_page(browser, asgi_server, bo_user, "#/profile")
    wait_or_explain(bo, "#profile-form", None)
    bo.wait_for_selector("body[data-socket=open]")
    assert bo.locator("#pending-badge").count() == 0

    # Ana picks Bo from the people list and creates the group.
    wait_or_explain(ana, "#new li.person:has-text('Bo')", None)
    ana.check("#new li.person:has-text('Bo') .pick input")
    ana.fill("#group-title", "Hiking")
    ana.click("#new .group-form button[type=submit]")
    ana.wait_for_selector("#chat h1 >> text=Hiking")
    group = Conversation.objects.get(title="Hiking")
    assert GroupInvitation.objects.filter(conversation=group, user=bo_user).exists()
    assert not Membership.objects.filter(conversation=group, user=bo_user).exists()

    # Bo, on his profile, sees the badge count it; the chat list shows the invitation.
    bo.wait_for_selector("#nav #pending-badge >> text=1")
    bo.click("#nav >> text=Chats")
    invitation = "#invitations li.invitation:has-text('Hiking')"
    bo.wait_for_selector(f"{invitation} >> text=invited by Ana")
    assert bo.inner_text("#pending-badge") == "1"
    bo.click(f"{invitation} .accept-invitation")
    bo.wait_for_selector("#chat h1 >> text=Hiking")
    bo.wait_for_selector("#pending-badge", state="detached")

    # Ana writes; Bo, now a member, gets it on his socket.
    ana.wait_for_selector("body[data-socket=open]")
    ana.fill("#composer-text", "Welcome, Bo!")
    ana.click("#send")
    bo.wait_for_selector("li.msg.theirs >> text=Welcome, Bo!")
    assert bo.locator("#pending-badge").count() == 0
    assert ana.js_errors == []
    assert bo.js_errors == []
