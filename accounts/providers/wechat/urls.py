"""No redirect flow: the app logs in with the SDK's code through the token endpoint."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
