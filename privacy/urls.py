"""privacy API routes (under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from privacy import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("policies", apis.PolicyCurrentApi.as_view(), name="policies-current"),
]

# --- Privacy rights (issue 6) -------------------------------------------------------------
from privacy import rights_apis  # noqa: E402

urlpatterns += [
    path("privacy/requests", rights_apis.PrivacyRequestListApi.as_view(), name="privacy-requests"),
    path(
        "privacy/requests/<str:request_uuid>",
        rights_apis.PrivacyRequestDetailApi.as_view(),
        name="privacy-request",
    ),
    path(
        "privacy/requests/<str:request_uuid>/verify",
        rights_apis.PrivacyRequestVerifyApi.as_view(),
        name="privacy-request-verify",
    ),
    path(
        "privacy/requests/<str:request_uuid>/cancel",
        rights_apis.PrivacyRequestCancelApi.as_view(),
        name="privacy-request-cancel",
    ),
    path(
        "privacy/exports/<str:token>",
        rights_apis.ExportDownloadApi.as_view(),
        name="privacy-export-download",
    ),
    path(
        "privacy/documents/current",
        rights_apis.DocumentCurrentApi.as_view(),
        name="privacy-documents-current",
    ),
    path(
        "privacy/rights-session",
        rights_apis.RightsSessionApi.as_view(),
        name="privacy-rights-session",
    ),
    path("privacy/consents", rights_apis.ConsentApi.as_view(), name="privacy-consents"),
    path("privacy/processors", rights_apis.ProcessorListApi.as_view(), name="privacy-processors"),
]
