"""privacy API routes (under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from privacy import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("policies", apis.PolicyCurrentApi.as_view(), name="policies-current"),
]
