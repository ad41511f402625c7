"""TURN credentials from ``GET /api/v1/calls/ice-servers`` authenticate with a real coturn.

Debian's coturn runs on 127.0.0.1 with a generated config (``use-auth-secret``, free
ports, its own pidfile and database in the test's folder), in its own session, and is
killed at the end. ``turnutils_uclient`` allocates a relay with the endpoint's
credentials; expired and altered credentials are refused (401). Skipped with a clear
reason where coturn is not installed, except under CI=true (.ci/run installs it).
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings

from chat.calls import services as calls
from tests.conftest import require_or_skip
from tests.e2e.conftest import free_port
from tests.factories.chat import make_user
from tests.helpers import api_client_for

pytestmark = pytest.mark.django_db


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("turnserver exited: " + log.read_text(errors="replace")[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail("turnserver did not listen in 10 s: " + log.read_text(errors="replace")[-2000:])


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """A coturn on 127.0.0.1; yields (port, shared secret)."""
    available = bool(shutil.which("turnserver") and shutil.which("turnutils_uclient"))
    require_or_skip(available, "coturn is not installed (apt-get install coturn)")
    port = free_port()
    secret = secrets.token_hex(16)
    relay_low = random.randrange(50000, 64000, 100)
    log, pidfile = tmp_path / "turn.log", tmp_path / "turn.pid"
    config = tmp_path / "turnserver.conf"
    config.write_text(
        "\n".join(
            [
                "listening-ip=127.0.0.1",
                "relay-ip=127.0.0.1",
                f"listening-port={port}",
                f"min-port={relay_low}",
                f"max-port={relay_low + 60}",
                "use-auth-secret",
                f"static-auth-secret={secret}",
                "realm=meetnow.test",
                "fingerprint",
                "no-tls",
                "no-dtls",
                "no-cli",
                "no-multicast-peers",
                # Test only: the uclient's peer is on loopback too ("Do not use in production").
                "allow-loopback-peers",
                "verbose",
                "simple-log",
                "no-stdout-log",
                f"log-file={log}",
                f"pidfile={pidfile}",
                f"userdb={tmp_path / 'turndb.sqlite'}",
                "",
            ]
        )
    )
    proc = subprocess.Popen(
        ["turnserver", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # setsid: its own session and process group
    )
    try:
        _wait_for_port(port, proc, log)
        yield port, secret
    finally:
        pids = {proc.pid}
        if pidfile.exists() and pidfile.read_text().strip().isdigit():
            pids.add(int(pidfile.read_text().strip()))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _allocate(port: int, username: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "turnutils_uclient",
            "-y",
            "-c",
            "-n",
            "5",
            "-m",
            "1",
            "-X",
            "-u",
            username,
            "-w",
            password,
            "-p",
            str(port),
            "127.0.0.1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_turn_credentials_from_the_endpoint_are_accepted_by_coturn(
    coturn: tuple[int, str], settings: LazySettings
) -> None:
    port, secret = coturn
    settings.MEETNOW_TURN_URLS = [f"turn:127.0.0.1:{port}?transport=udp"]
    settings.MEETNOW_TURN_SECRET = secret
    settings.MEETNOW_TURN_TTL = 600
    user = make_user("caller")

    body = api_client_for(user).get("/api/v1/calls/ice-servers").json()
    [turn] = body["ice_servers"]
    assert turn["urls"] == [f"turn:127.0.0.1:{port}?transport=udp"]
    ok = _allocate(port, turn["username"], turn["credential"])
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    # The relay echoed every packet: allocation and channel bind succeeded.
    assert "tot_recv_msgs=10" in ok.stdout, ok.stdout[-2000:]
    assert "Total lost packets 0 " in ok.stdout, ok.stdout[-2000:]

    expired = calls.turn_credentials(user=user, now=time.time() - 600 - 60)["ice_servers"][0]
    refused = _allocate(port, expired["username"], expired["credential"])
    assert refused.returncode != 0

    altered = turn["credential"][:-2] + ("AA" if not turn["credential"].endswith("AA") else "BB")
    refused = _allocate(port, turn["username"], altered)
    assert refused.returncode != 0
    # Another user's name with this password: refused too (the HMAC covers the name).
    forged = turn["username"].split(":")[0] + ":" + str(make_user("other").uuid)
    refused = _allocate(port, forged, turn["credential"])
    assert refused.returncode != 0
