"""The API's routes resolve in an order chosen for speed (meetnow/urls.py: dating's
routes behind their ``dating/`` prefix, tried first). What must hold whatever the
order: every route answers at the path it always had, no route hides another, and the
request log still names a like by its full route."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, UUIDConverter
from django.urls.resolvers import RoutePattern

from tests.factories.chat import make_user
from tests.factories.dating import make_post
from tests.helpers import session_token_for

_SAMPLES: list[tuple[type, Any]] = [
    (UUIDConverter, uuid.UUID("0b8c7a8e-1111-4222-8333-444455556666")),
    (IntConverter, 7),
    (SlugConverter, "some-slug"),
    (PathConverter, "a/b"),
]


def _api_routes() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, full route, sample kwargs) of every named route under ``api/v1/``."""
    found: list[tuple[str, str, dict[str, Any]]] = []

    def walk(patterns: list[Any], prefix: str, converters: dict[str, Any]) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            merged = dict(converters)
            if isinstance(entry.pattern, RoutePattern):
                merged.update(entry.pattern.converters)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route, merged)
            elif isinstance(entry, URLPattern) and entry.name and route.startswith("api/v1/"):
                kwargs = {}
                for key, converter in merged.items():
                    sample = next(
                        (v for kind, v in _SAMPLES if isinstance(converter, kind)), "abc123"
                    )
                    kwargs[key] = sample
                found.append((entry.name, route, kwargs))

    walk(get_resolver().url_patterns, "", {})
    return found


def test_every_api_route_resolves_to_itself() -> None:
    routes = _api_routes()
    assert len(routes) > 70  # the walk found the API (79 routes on 2026-12-06)
    for name, route, kwargs in routes:
        path = reverse(name, kwargs=kwargs)
        match = resolve(path)
        assert (match.url_name, match.route) == (name, route), path


def test_dating_routes_keep_their_paths() -> None:
    post = "0b8c7a8e-1111-4222-8333-444455556666"
    assert reverse("dating-posts") == "/api/v1/dating/posts"
    assert reverse("dating-post-like", kwargs={"post_uuid": post}) == (
        f"/api/v1/dating/posts/{post}/like"
    )
    assert resolve(f"/api/v1/dating/posts/{post}/like").route == (
        "api/v1/dating/posts/<str:post_uuid>/like"
    )
    assert resolve("/api/v1/dating/voice-match").url_name == "dating-voice-match"
    assert resolve("/api/v1/sync").url_name == "sync"


@pytest.mark.django_db
def test_a_like_is_logged_by_its_full_route(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    post = make_post(make_user())
    caplog.set_level(logging.INFO, logger="meetnow.request")

    response = client.post(
        f"/api/v1/dating/posts/{post.uuid}/like",
        HTTP_X_SESSION_TOKEN=session_token_for(make_user()),
    )

    assert response.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "meetnow.request"]
    assert lines
    assert lines[-1].startswith("POST /api/v1/dating/posts/<str:post_uuid>/like 200 ")
    assert str(post.uuid) not in lines[-1]
