"""The OpenAPI schema builds without warnings and the docs page is served."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient


def test_schema_generates_without_warnings(tmp_path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "openapi: 3" in out.read_text()


@pytest.mark.django_db
def test_schema_and_docs_are_served() -> None:
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/healthz" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
