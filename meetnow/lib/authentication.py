"""DRF authentication with the app's allauth session token (``X-Session-Token``)."""

from __future__ import annotations

from typing import Any

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """The token from allauth's headless flows, as used by the REST API.

    A missing token leaves the request anonymous (the permission then answers 401);
    a bad, expired or revoked token is refused with 401 ``invalid_token`` rather than
    being treated as anonymous (which would give a 403).
    """

    allow_anonymous_users = False
    allow_invalid_session_tokens = False


class SessionTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token header in the OpenAPI schema (``/api/schema/``)."""

    target_class = SessionTokenAuthentication
    name = "SessionToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-Session-Token"}
