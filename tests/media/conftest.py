"""Media fixtures: users, an authenticated API client, a real S3-compatible server."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

S3_BUCKET = "meetnow-test"


@pytest.fixture
def user(db: None) -> Any:
    return get_user_model().objects.create_user(nickname="Alice", phone="+8613800138000")


@pytest.fixture
def other_user(db: None) -> Any:
    return get_user_model().objects.create_user(nickname="Bob", phone="+8613800138001")


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server in a thread on 127.0.0.1 (research/media.md, section 1)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _storage_from_settings_module(environ: dict[str, str]) -> dict[str, Any]:
    """``STORAGES["default"]`` exactly as meetnow/settings.py builds it for ``environ``."""
    path = Path(__file__).resolve().parents[2] / "meetnow" / "settings.py"
    spec = importlib.util.spec_from_file_location("_meetnow_settings_s3", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        spec.loader.exec_module(module)
    storage: dict[str, Any] = module.STORAGES["default"]
    return storage


@pytest.fixture
def s3_storage(settings: LazySettings, s3_endpoint: str) -> Any:
    """Production's storage (STORAGE_BACKEND=s3, built by meetnow/settings.py) on moto."""
    import boto3
    from botocore.config import Config

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),
    )
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if S3_BUCKET not in existing:
        client.create_bucket(Bucket=S3_BUCKET)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=S3_BUCKET, Key=item["Key"])
    storage = _storage_from_settings_module(
        {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": S3_BUCKET,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_ENDPOINT_URL": s3_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["signature_version"] == "s3v4"
    assert storage["OPTIONS"]["file_overwrite"] is False
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    return client
