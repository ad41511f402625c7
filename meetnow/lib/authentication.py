"""DRF authentication with the app's allauth session token (``X-Session-Token``)."""

from __future__ import annotations

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """The token from allauth's headless flows, as used by the REST API.

    A missing token leaves the request anonymous (the permission then answers 401);
    a bad, expired or revoked token is refused with 401 ``invalid_token`` rather than
    being treated as anonymous (which would give a 403).
    """

    allow_anonymous_users = False
    allow_invalid_session_tokens = False
