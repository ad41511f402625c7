"""The web client's page (issue 16): served at ``/``, a strict CSP, no inline script,
every module it loads is a static file, and ``/admin/``, ``/api/`` are unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db

STATIC_WEB = Path(__file__).resolve().parents[2] / "static" / "web"


def _csp(response: object) -> dict[str, str]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def test_root_serves_the_client_shell(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<script type="module" src="/static/web/app.js">' in html
    assert '<link rel="stylesheet" href="/static/web/style.css">' in html
    assert '<main id="main"' in html


def test_csp_forbids_inline_script_and_style_and_framing(client: Client) -> None:
    csp = _csp(client.get("/"))
    assert csp["script-src"] == "'self'"
    assert "'unsafe-inline'" not in csp["script-src"] + csp["style-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    # the WebSocket to this host only; images and media may be blob: (recordings, previews)
    assert csp["connect-src"] == "'self' ws://testserver wss://testserver"
    assert "blob:" in csp["media-src"]


def test_csp_allows_the_s3_endpoint_for_signed_file_urls(client: Client, settings: object) -> None:
    settings.STORAGE_BACKEND = "s3"  # type: ignore[attr-defined]
    settings.AWS_S3_ENDPOINT_URL = "https://oss.example.com:9000/bucket"  # type: ignore[attr-defined]
    settings.MEETNOW_WEB_MEDIA_ORIGINS = ["https://cdn.example.com"]  # type: ignore[attr-defined]
    csp = _csp(client.get("/"))
    assert "https://oss.example.com:9000" in csp["img-src"]
    assert "https://cdn.example.com" in csp["media-src"]


def test_page_has_no_inline_script_style_or_handlers(client: Client) -> None:
    html = client.get("/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"


def test_client_modules_never_use_inline_handlers_eval_or_remote_urls() -> None:
    for path in STATIC_WEB.rglob("*.js"):
        source = path.read_text()
        assert "eval(" not in source, path
        assert "new Function" not in source, path
        assert ".innerHTML" not in source, path
        assert not re.search(r"https?://(?!127\.0\.0\.1)", source), f"remote URL in {path}"


def test_every_imported_module_is_a_static_file() -> None:
    """A missing or misspelt import would break the whole client at load time."""
    for path in STATIC_WEB.rglob("*.js"):
        for target in re.findall(r"^import .* from '(\.[^']+)';$", path.read_text(), re.M):
            assert (path.parent / target).resolve().is_file(), f"{path}: {target}"
    assert finders.find("web/app.js")
    assert finders.find("web/style.css")


def test_string_tables_have_the_same_keys_in_both_languages() -> None:
    source = (STATIC_WEB / "i18n.js").read_text()
    en = source[source.index("const en = {") : source.index("const zh = {")]
    zh = source[source.index("const zh = {") : source.index("export const TABLES")]
    keys = re.compile(r"\b([a-z][a-z0-9_]*): '")
    en_keys, zh_keys = set(keys.findall(en)), set(keys.findall(zh))
    assert en_keys == zh_keys
    used: set[str] = set()
    for path in STATIC_WEB.rglob("*.js"):
        used |= set(re.findall(r"\bt\('([A-Za-z0-9_]+)'", path.read_text()))
    assert used <= en_keys, used - en_keys


def test_only_get_is_allowed_and_other_pages_are_unchanged(client: Client) -> None:
    assert client.post("/").status_code == 405
    assert client.get("/admin/").status_code == 302
    api = client.get("/api/v1/conversations")
    assert api.status_code in (401, 403)
    assert "Content-Security-Policy" not in api
    assert client.get("/api/v1/policies").status_code == 200


def test_dev_console_hint_follows_the_sms_backend(client: Client, settings: object) -> None:
    settings.SMS_BACKEND = "console"  # type: ignore[attr-defined]
    assert 'data-dev-sms-console="1"' in client.get("/").content.decode()
    settings.SMS_BACKEND = "twilio"  # type: ignore[attr-defined]
    assert 'data-dev-sms-console="0"' in client.get("/").content.decode()


def test_the_deletion_text_says_the_configured_cooling_off(
    client: Client, settings: object
) -> None:
    settings.MEETNOW_ERASURE_GRACE_DAYS = 30  # type: ignore[attr-defined]
    assert 'data-erasure-grace-days="30"' in client.get("/").content.decode()
    tables = (STATIC_WEB / "i18n.js").read_text()
    assert tables.count("delete_text:") == 2
    assert "{days}" in tables.split("delete_text:")[1].split("\n")[0]
    assert "{days}" in tables.split("delete_text:")[2].split("\n")[0]


def test_production_static_files_serve_the_client_under_hashed_names(
    client: Client, settings: object, tmp_path: Path
) -> None:
    """In production whitenoise serves collectstatic's output: the page links the hashed
    entry module, and the modules it imports by relative name are there too. (Django's
    manifest storage: whitenoise's subclass only adds compressed copies, and compressing
    every admin file made this test take a minute.)"""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path  # type: ignore[attr-defined]
    settings.STORAGES = {  # type: ignore[attr-defined]
        **settings.STORAGES,  # type: ignore[attr-defined]
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    html = client.get("/").content.decode()
    entry = re.search(r'src="/static/(web/app\.[0-9a-f]{12}\.js)"', html)
    assert entry, html
    assert (tmp_path / entry.group(1)).is_file()
    for name in ("api.js", "realtime.js", "screens/chat.js", "icons/mic.svg"):
        assert (tmp_path / "web" / name).is_file(), name
