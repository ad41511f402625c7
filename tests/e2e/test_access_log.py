"""The real server: its output never shows a capability token, and a chunked body
is read, not dropped (issue 13, findings 5 and 9).

uvicorn runs with its access log on (its default): every request line goes through
the same redaction as the app's logs, and so does the app's own request log.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from media.signing import sign
from tests.e2e.conftest import BIN, ROOT, _stop, free_port, serve
from tests.factories.chat import make_user
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_access_log_masks_download_and_export_tokens(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                str(BIN / "uvicorn"),
                "meetnow.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "info",
            ],
            cwd=ROOT,
            env=e2e_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            download = sign(media_uuid=uuid.uuid4(), variant="original", ttl=300)
            export = "exp0rtT0ken-" + uuid.uuid4().hex
            query = "q" + uuid.uuid4().hex
            paths = [
                f"/api/v1/media/download/{download}",
                f"/api/v1/privacy/exports/{export}",
                f"/api/v1/privacy/exports/{export}?token={query}",
            ]
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    assert time.monotonic() < deadline, log_path.read_text()[-2000:]
                    assert proc.poll() is None, log_path.read_text()[-2000:]
                    time.sleep(0.1)
            statuses = []
            for path in paths:
                try:
                    with urllib.request.urlopen(base + path, timeout=10) as response:
                        statuses.append(response.status)
                except urllib.error.HTTPError as exc:
                    statuses.append(exc.code)
            assert all(status < 500 for status in statuses), statuses

            # A chunked body (no Content-Length) reaches the view.
            user = make_user()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(
                "PATCH",
                "/api/v1/me",
                body=iter([b'{"nickname"', b': "chunked"}']),
                headers={
                    "X-Session-Token": session_token_for(user),
                    "Content-Type": "application/json",
                },
                encode_chunked=True,
            )
            answer = conn.getresponse()
            assert answer.status == 200, answer.read()
            assert json.loads(answer.read())["nickname"] == "chunked"
            conn.close()
            user.refresh_from_db()
            assert user.nickname == "chunked"
            time.sleep(0.5)  # the access log line is written after the response
        finally:
            _stop(proc)
    output = log_path.read_text()
    assert "/api/v1/privacy/exports/[token]" in output, output[-3000:]
    assert "/api/v1/media/download/[token]" in output, output[-3000:]
    for secret in (download, export, query, download.split(":")[0]):
        assert secret not in output, output[-3000:]


@pytest.mark.parametrize("workers", [1, 2])
def test_no_access_log_means_no_line_per_request(
    e2e_env: dict[str, str], tmp_path: Path, workers: int
) -> None:
    """Production and the benchmarks run ``--no-access-log``: the app's logging setup
    must not turn uvicorn's access log back on (a line per request costs every request)."""
    log_path = tmp_path / "server.log"
    marker = "nolog" + uuid.uuid4().hex
    with serve(
        e2e_env, log_path, workers=workers, options=("--log-level", "info", "--no-access-log")
    ) as base:
        for _ in range(3):
            with urllib.request.urlopen(f"{base}/healthz?{marker}", timeout=10) as response:
                assert response.status == 200
        time.sleep(0.5)  # an access line would be written after the response
    output = log_path.read_text()
    assert "Application startup complete" in output, output[-3000:]
    assert "meetnow.request: GET /healthz 200" in output, output[-3000:]  # the app's line
    assert marker not in output, output[-3000:]  # uvicorn's would show the query string
    assert "uvicorn.access" not in output, output[-3000:]
