"""The stranger matrix (issue 13): every object endpoint, every method, as outsiders.

The routes come from the URL conf, not from a list: every pattern under ``/api/``
with a path parameter (an id, a uuid, a token) must have a row in ``ROWS``, or
``test_every_object_route_has_a_row`` fails. A row says how to make the object, what
a *stranger* (signed in, unrelated to the object) and a *partner* (signed in, in a
conversation with its owner, where that relationship means something) get for each
method, and the test asserts it:

1. the stranger's request answers the row's status (404 unless a documented 403) and
   changes nothing: every table of the apps is compared row by row before and after;
2. the same for the partner, where the row has one;
3. the owner's same request (same path, same body) succeeds, so the refusals above
   came from the access check and not from a bad body or a wrong path;
4. ``OPTIONS`` answers the same for the real object as for an id that does not exist.

Routes whose parameter is not someone else's object (the caller's own relation to a
person, a capability URL, a provider's callback) have a row saying so and why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from chat.calls.services import call_invite
from chat.models import Conversation
from dating.matching import profile_like
from media.services import media_file_signed_url
from privacy.export import export_download_token
from privacy.lifecycle import request_create
from support.services import support_ticket_close, support_ticket_create
from tests.factories.chat import (
    make_device,
    make_direct,
    make_group,
    make_request,
    make_user,
    send,
)
from tests.factories.dating import make_post
from tests.factories.privacy import confirm_identity, ready_file, run_export
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# Tables compared before and after each refused request (all of the project's apps and
# the session/social tables allauth and user_sessions keep for them).
APP_LABELS = {
    "accounts",
    "chat",
    "media",
    "dating",
    "privacy",
    "support",
    "staff",
    "usersessions",
    "socialaccount",
    "account",
    "sessions",
}
# Columns a signed-in request touches on the caller's own rows (last activity).
VOLATILE = {("usersessions.UserSession", "last_seen_at")}


@dataclass
class World:
    owner: User
    partner: User
    stranger: User
    direct: Conversation
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: User) -> str:
        key = str(user.pk)
        if key not in self.tokens:
            self.tokens[key] = session_token_for(user)
        return self.tokens[key]


@dataclass
class Target:
    """One object: the path's arguments, a valid body per method, who may act on it."""

    kwargs: dict[str, Any]
    owner: User
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    partner: User | None = None


Build = Callable[[World], Target]


@dataclass(frozen=True)
class Row:
    build: Build
    # Status a stranger gets, for every method or per method.
    stranger: int | dict[str, int] = 404
    # Status the partner gets; None: no partner case (the row's note says why).
    partner: int | dict[str, int] | None = 404
    # Not an object of someone else: the answers are the feature's; no refusal expected.
    own: str = ""
    note: str = ""

    def expected(self, role: str, method: str) -> int | None:
        value = self.stranger if role == "stranger" else self.partner
        if isinstance(value, dict):
            return value.get(method)
        return value


# --- Builders ------------------------------------------------------------------------


def _conversation(w: World) -> Target:
    return Target({"conversation_uuid": w.direct.uuid}, w.owner)


def _conversation_with(body: dict[str, Any]) -> Build:
    def build(w: World) -> Target:
        return Target({"conversation_uuid": w.direct.uuid}, w.owner, {"post": body})

    return build


def _group(w: World) -> Target:
    return Target({"conversation_uuid": make_group(w.owner, w.partner).uuid}, w.owner)


def _messages(w: World) -> Target:
    body = {"client_id": str(uuid.uuid4()), "kind": "text", "text": "hi"}
    return Target({"conversation_uuid": w.direct.uuid}, w.owner, {"post": body})


def _read(w: World) -> Target:
    message = send(w.partner, w.direct)
    return Target(
        {"conversation_uuid": w.direct.uuid}, w.owner, {"post": {"message_id": message.pk}}
    )


def _group_members(w: World) -> Target:
    group = make_group(w.owner, w.partner)
    extra = make_user("extra")
    make_direct(w.owner, extra)
    return Target(
        {"conversation_uuid": group.uuid},
        w.owner,
        {"post": {"users": [str(extra.uuid)]}},
        partner=w.partner,
    )


def _group_member(w: World) -> Target:
    third = make_user("third")
    group = make_group(w.owner, w.partner, third)
    return Target(
        {"conversation_uuid": group.uuid, "user_uuid": third.uuid}, w.owner, partner=w.partner
    )


def _message(w: World) -> Target:
    message = send(w.owner, w.direct, "mine")
    return Target(
        {"conversation_uuid": w.direct.uuid, "message_id": message.pk},
        w.owner,
        {"patch": {"text": "edited"}},
        partner=w.partner,
    )


def _message_hide(w: World) -> Target:
    message = send(w.owner, w.direct, "mine")
    return Target({"conversation_uuid": w.direct.uuid, "message_id": message.pk}, w.owner)


def _call_for(actor: str) -> Build:
    """A ringing call from owner to partner; ``actor`` is the one the action is for."""

    def build(w: World) -> Target:
        call = call_invite(caller=w.owner, conversation_uuid=w.direct.uuid, media="audio")
        caller, callee = w.owner, w.partner
        owner, other = (callee, caller) if actor == "callee" else (caller, callee)
        return Target({"call_uuid": call.uuid}, owner, partner=other if actor != "both" else None)

    return build


def _call_accepted(w: World) -> Target:
    from chat.calls.services import call_accept

    call = call_invite(caller=w.owner, conversation_uuid=w.direct.uuid, media="audio")
    call_accept(user=w.partner, call_uuid=call.uuid)
    return Target({"call_uuid": call.uuid}, w.owner)


def _request_for(body: dict[str, Any] | None = None) -> Build:
    """A message request from the partner to the owner (only its recipient answers)."""

    def build(w: World) -> Target:
        conv = make_request(make_user(), w.owner)
        return Target({"conversation_uuid": conv.uuid}, w.owner, {"post": body} if body else {})

    return build


def _invitation(w: World) -> Target:
    """An invitation of the owner to a group a stranger to them made."""
    from chat.services import group_create

    group = group_create(owner=make_user(), title="G", member_uuids=[w.owner.uuid])
    return Target({"conversation_uuid": group.uuid}, w.owner)


def _person(w: World) -> Target:
    return Target({"user_uuid": w.owner.uuid}, w.owner)


def _device(w: World) -> Target:
    return Target({"device_pk": make_device(w.owner).pk}, w.owner, partner=w.partner)


def _session(w: World) -> Target:
    token = session_token_for(w.owner)
    session = UserSession.objects.create(user=w.owner, session_key=token, ip="203.0.113.1")
    return Target({"session_pk": session.pk}, w.owner, partner=w.partner)


def _social_account(w: World) -> Target:
    account = SocialAccount.objects.create(user=w.owner, provider="wechat", uid="wx-owner")
    return Target({"account_pk": account.pk}, w.owner, partner=w.partner)


def _media(w: World) -> Target:
    return Target({"media_uuid": ready_file(w.owner).uuid}, w.owner, partner=w.partner)


def _media_download(w: World) -> Target:
    url = media_file_signed_url(media_file=ready_file(w.owner))
    return Target({"token": url.rstrip("/").rsplit("/", 1)[-1]}, w.owner)


def _private_post(w: World) -> Target:
    post = make_post(w.owner, audience="matches")
    return Target({"post_uuid": post.uuid}, w.owner, {"post": {"text": "nice"}}, partner=w.partner)


def _comment(w: World) -> Target:
    from dating.services import comment_create

    post = make_post(w.owner)
    comment = comment_create(user=w.owner, post_uuid=post.uuid, text="my comment")
    return Target(
        {"post_uuid": post.uuid, "comment_uuid": comment.uuid}, w.owner, partner=w.partner
    )


def _match(w: World) -> Target:
    profile_like(user=w.owner, user_uuid=w.partner.uuid)
    match = profile_like(user=w.partner, user_uuid=w.owner.uuid)
    assert match is not None
    return Target({"match_uuid": match.uuid}, w.owner)


def _voice_match(w: World) -> Target:
    from dating.models import VoiceMatchSession

    now = timezone.now()
    session = VoiceMatchSession.objects.create(
        caller=w.owner, callee=w.partner, created_at=now, ends_at=now + timedelta(minutes=3)
    )
    return Target({"session_uuid": session.uuid}, w.owner)


def _privacy_request(w: World) -> Target:
    privacy_request = request_create(user=w.owner, kind="access")
    confirm_identity(w.token(w.owner), w.owner)
    return Target({"request_uuid": privacy_request.uuid}, w.owner, partner=w.partner)


def _export(w: World) -> Target:
    privacy_request = request_create(user=w.owner, kind="access", identity_confirmed=True)
    assert run_export(privacy_request) == "done"
    privacy_request.refresh_from_db()
    token = export_download_token(privacy_request=privacy_request)
    return Target({"token": token}, w.owner)


def _ticket(w: World) -> Target:
    ticket = support_ticket_create(user=w.owner, text="help me")
    return Target(
        {"ticket_uuid": ticket.uuid}, w.owner, {"post": {"text": "more"}}, partner=w.partner
    )


def _notice(w: World) -> Target:
    support_ticket_close(ticket=support_ticket_create(user=w.owner, text="help me"))
    [notice_id] = w.owner.notices.values_list("pk", flat=True)
    return Target({"notice_id": notice_id}, w.owner, partner=w.partner)


def _provider(w: World) -> Target:
    return Target({"provider": "fake"}, w.owner)


MEMBER = "the partner is a member of the conversation: reading and acting in it is theirs"

ROWS: dict[str, Row] = {
    # chat
    "conversation": Row(_conversation, partner=None, note=MEMBER),
    "conversation-members": Row(_group_members, partner=403),
    "conversation-member": Row(_group_member, partner=403),
    "conversation-leave": Row(_group, partner=None, note=MEMBER),
    "conversation-mute": Row(_conversation_with({"muted": True}), partner=None, note=MEMBER),
    "conversation-read": Row(_read, partner=None, note=MEMBER),
    "messages": Row(_messages, partner=None, note=MEMBER),
    "message": Row(_message, partner=403),
    "message-delete-for-me": Row(
        _message_hide, partner=None, note="hiding a message hides it for the caller only"
    ),
    "call": Row(_call_for("both"), partner=None, note="caller and callee both see the call"),
    "call-accept": Row(_call_for("callee"), partner=403),
    "call-decline": Row(_call_for("callee"), partner=403),
    "call-cancel": Row(_call_for("caller"), partner=403),
    "call-hangup": Row(_call_accepted, partner=None, note="either side hangs up"),
    "chat-request-accept": Row(_request_for(), partner=None, note="a request to the owner"),
    "chat-request-decline": Row(_request_for(), partner=None, note="a request to the owner"),
    "chat-request-report": Row(
        _request_for({"reason": "spam"}), partner=None, note="a request to the owner"
    ),
    "chat-invitation-accept": Row(_invitation, partner=None, note="the owner's invitation"),
    "chat-invitation-decline": Row(_invitation, partner=None, note="the owner's invitation"),
    # accounts
    "user-detail": Row(_person, stranger=200, partner=200, own="a public profile"),
    "block": Row(
        _person,
        stranger={"post": 201, "delete": 204},
        partner={"post": 201, "delete": 204},
        own="the caller's own block list",
    ),
    "device": Row(_device),
    "session": Row(_session),
    "social-account": Row(_social_account),
    "identity-callback": Row(
        _provider,
        stranger=404,
        partner=None,
        own="the provider's callback: the path names a provider, its body is signed",
    ),
    # media
    "media-detail": Row(_media),
    "media-download": Row(
        _media_download,
        stranger=200,
        partner=None,
        own="capability URL: the signed token (5 minutes) is the access",
    ),
    # dating
    "dating-post": Row(_private_post),
    "dating-post-like": Row(_private_post),
    "dating-post-listened": Row(_private_post),
    "dating-comments": Row(_private_post),
    "dating-comment": Row(
        _comment,
        stranger=403,
        partner=403,
        note="a comment on a public post is seen by all: 403 not_allowed (docs/dating.md)",
    ),
    "dating-user-posts": Row(_person, stranger=200, partner=200, own="a person's public posts"),
    "dating-like": Row(_person, stranger=200, partner=200, own="the caller's own like of a person"),
    "dating-pass": Row(_person, stranger=204, partner=204, own="the caller's own pass on a person"),
    "dating-match": Row(_match, partner=None, note="the partner is the other side of the match"),
    "dating-voice-match-session": Row(
        _voice_match, partner=None, note="the partner is the other person of the voice match"
    ),
    "dating-voice-match-like": Row(
        _voice_match, partner=None, note="the partner is the other person of the voice match"
    ),
    # privacy
    "privacy-request": Row(_privacy_request),
    "privacy-request-verify": Row(_privacy_request),
    "privacy-request-cancel": Row(_privacy_request),
    "privacy-export-download": Row(
        _export,
        stranger=200,
        partner=None,
        own="capability URL: the signed link (until the archive expires)",
    ),
    # support
    "support-ticket": Row(_ticket),
    "support-ticket-replies": Row(_ticket),
    # accounts' inbox
    "notice-read": Row(_notice),
}


# --- The walk ------------------------------------------------------------------------


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def object_routes(patterns: list[Any] | None = None) -> dict[str, tuple[str, URLPattern]]:
    """Every route under /api/ with a path parameter, by name (of the project's URL conf)."""
    routes: dict[str, tuple[str, URLPattern]] = {}
    for route, pattern in _walk(get_resolver().url_patterns if patterns is None else patterns):
        if route.startswith("api/") and pattern.pattern.regex.groupindex:
            assert pattern.name, f"unnamed route {route}"
            routes[pattern.name] = (route, pattern)
    return routes


def methods_of(pattern: URLPattern) -> list[str]:
    view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
    if view is None:  # a function view: the methods it answers other than with 405
        return ["get"]
    return [m for m in METHODS if hasattr(view, m)]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in APP_LABELS or meta.proxy:
            continue
        names = [f.attname for f in meta.concrete_fields if (meta.label, f.attname) not in VOLATILE]
        manager = model._base_manager  # every row, also the ones a default manager hides
        tables[meta.label] = list(manager.order_by("pk").values_list(*names))
    return tables


def changes(before: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    after = snapshot()
    return [
        f"{label}: {len(rows)} rows -> {len(after[label])}"
        + ("" if len(rows) != len(after[label]) else " (values changed)")
        for label, rows in before.items()
        if after[label] != rows
    ]


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=token)
    return client


def _call(client: APIClient, method: str, url: str, body: dict[str, Any] | None) -> Any:
    call = getattr(client, method)
    if method == "get":
        return call(url)
    return call(url, body or {}, format="json")


def _world() -> World:
    owner, partner, stranger = make_user("owner"), make_user("partner"), make_user("stranger")
    world = World(owner, partner, stranger, make_direct(owner, partner))
    for user in (owner, partner, stranger):
        world.token(user)  # the sessions exist before the first snapshot
    return world


def _missing(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The same path arguments naming nothing."""
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        if isinstance(value, int):
            out[name] = 2_000_000_000
        elif isinstance(value, uuid.UUID):
            out[name] = uuid.uuid4()
        else:
            out[name] = value
    return out


def test_every_object_route_has_a_row() -> None:
    routes = object_routes()
    missing = sorted(set(routes) - set(ROWS))
    assert not missing, (
        "object routes without a row in tests/security/test_stranger_matrix.py ROWS "
        f"(say how to make the object and what a stranger and a partner get): {missing}"
    )
    gone = sorted(set(ROWS) - set(routes))
    assert not gone, f"rows for routes that no longer exist: {gone}"


@pytest.mark.parametrize("name", sorted(ROWS))
def test_stranger_and_partner_change_nothing(name: str) -> None:
    routes = object_routes()
    if name not in routes:
        pytest.fail(f"no route {name}")
    _route, pattern = routes[name]
    row = ROWS[name]
    w = _world()
    target = row.build(w)
    url = reverse(name, kwargs=target.kwargs)
    roles: list[tuple[str, User]] = [("stranger", w.stranger)]
    if row.partner is not None:
        roles.append(("partner", target.partner or w.partner))
    # Deletions last: each method's owner request runs right after its refusals.
    methods = sorted(methods_of(pattern), key=lambda m: m == "delete")
    problems: list[str] = []
    for method in methods:
        body = target.bodies.get(method)
        before = snapshot()
        for role, user in roles:
            expected = row.expected(role, method)
            response = _call(_client(w.token(user)), method, url, body)
            if response.status_code != expected:
                problems.append(
                    f"{role} {method.upper()} {url}: {response.status_code} (want {expected}) "
                    f"{getattr(response, 'data', '')!r:.200}"
                )
            if not row.own:
                problems += [f"{role} {method.upper()} {url} changed {c}" for c in changes(before)]
                before = snapshot()
        if row.own:
            continue
        response = _call(_client(w.token(target.owner)), method, url, body)
        if response.status_code >= 300:
            problems.append(
                f"owner {method.upper()} {url}: {response.status_code} "
                f"{getattr(response, 'data', '')!r:.200} (the request itself must be valid)"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(n for n, r in ROWS.items() if not r.own))
def test_options_says_nothing_about_the_object(name: str) -> None:
    w = _world()
    target = ROWS[name].build(w)
    client = _client(w.token(w.stranger))
    real = client.options(reverse(name, kwargs=target.kwargs))
    other = client.options(reverse(name, kwargs=_missing(target.kwargs)))
    assert (real.status_code, real.content) == (other.status_code, other.content)


def test_a_new_object_route_without_a_row_is_found() -> None:
    """The walk itself: a route added to the URL conf shows up as missing a row."""
    import meetnow.urls

    extra = path("api/v1/widgets/<uuid:widget_uuid>", lambda request: HttpResponse(), name="widget")
    routes = object_routes([*meetnow.urls.urlpatterns, extra])
    assert set(routes) - set(object_routes()) == {"widget"}
