"""accounts API routes (under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from accounts import apis, notice_apis
from accounts.identity import apis as identity_apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("me", apis.MeApi.as_view(), name="me"),
    path("users/<uuid:user_uuid>", apis.UserDetailApi.as_view(), name="user-detail"),
    path("discover", apis.DiscoverApi.as_view(), name="discover"),
    path("blocks", apis.BlockListApi.as_view(), name="blocks"),
    path("blocks/<uuid:user_uuid>", apis.BlockApi.as_view(), name="block"),
    path("devices", apis.DeviceListApi.as_view(), name="devices"),
    path("devices/<int:device_pk>", apis.DeviceDetailApi.as_view(), name="device"),
    path("sessions", apis.SessionListApi.as_view(), name="sessions"),
    path("sessions/end-others", apis.SessionEndOthersApi.as_view(), name="sessions-end-others"),
    path("sessions/<int:session_pk>", apis.SessionDetailApi.as_view(), name="session"),
    path("social-accounts", apis.SocialAccountListApi.as_view(), name="social-accounts"),
    path(
        "social-accounts/<int:account_pk>",
        apis.SocialAccountDetailApi.as_view(),
        name="social-account",
    ),
    path("security-events", apis.SecurityEventListApi.as_view(), name="security-events"),
    path("notices", notice_apis.NoticeListApi.as_view(), name="notices"),
    path("notices/<int:notice_id>/read", notice_apis.NoticeReadApi.as_view(), name="notice-read"),
    path("identity", identity_apis.IdentityApi.as_view(), name="identity"),
    path(
        "identity/verifications",
        identity_apis.IdentityVerificationStartApi.as_view(),
        name="identity-verifications",
    ),
    path(
        "identity/callbacks/<slug:provider>",
        identity_apis.IdentityCallbackApi.as_view(),
        name="identity-callback",
    ),
]
