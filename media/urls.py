"""media API routes (under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from media.views import MediaDetailApi, MediaUploadApi, media_download

urlpatterns: list[URLPattern | URLResolver] = [
    path("media", MediaUploadApi.as_view(), name="media-upload"),
    path("media/<uuid:media_uuid>", MediaDetailApi.as_view(), name="media-detail"),
    path("media/download/<str:token>", media_download, name="media-download"),
]
