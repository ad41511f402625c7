"""Throwaway PostgreSQL and Redis servers for the tests that stop them (issue 13).

Each test that takes a service down gets its own instance on a free loopback port, in a
temporary folder, so the shared PostgreSQL and Redis that everyone's tests use are never
touched. ``initdb`` refuses to run as root: as root, the cluster is made and run as the
``postgres`` system user (``runuser``), in a folder outside root's private temp folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_or_skip
from tests.e2e.conftest import free_port


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str], stdin: bytes | None = None) -> None:
    done = subprocess.run(command, input=stdin, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(f"{command[-1]!r} failed: {done.stderr.decode(errors='replace')[-2000:]}")


@dataclass
class Postgres:
    """A cluster of our own: ``stop()`` and ``start()`` it at will; same port throughout."""

    bin: Path
    data: Path
    port: int

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        _run(
            _as_postgres(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.data.parent / "server.log"),
                    "-o",
                    f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            )
        )

    def stop(self) -> None:
        _run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            )
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def throwaway_postgres() -> Iterator[Postgres]:
    pg_bin = _pg_bin()
    require_or_skip(pg_bin is not None, "PostgreSQL's initdb is not installed")
    assert pg_bin is not None
    require_or_skip(os.geteuid() != 0 or _has_user("postgres"), "no postgres user to run initdb as")
    folder = Path(tempfile.mkdtemp(prefix="meetnow-pg-", dir="/tmp"))
    data = folder / "data"
    try:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        folder.chmod(0o755)
        _run(
            _as_postgres(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ]
            )
        )
        server = Postgres(pg_bin, data, free_port())
        server.start()
        try:
            yield server
        finally:
            if server.running():
                server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def copy_database(source_url: str, server: Postgres, name: str) -> None:
    """Create ``name`` on ``server`` with the schema and rows of ``source_url``'s database."""
    psql = [
        str(server.bin / "psql"),
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        "127.0.0.1",
        "-p",
        str(server.port),
        "-U",
        "postgres",
    ]
    _run([*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'])
    dump = subprocess.run(
        [str(server.bin / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
        check=True,
        capture_output=True,
        timeout=60,
    )
    _run([*psql, "-d", name], stdin=dump.stdout)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class Redis:
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"],
                capture_output=True,
                text=True,
                timeout=5,
            )
            if probe.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        pytest.fail("throwaway redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def throwaway_redis() -> Iterator[Redis]:
    require_or_skip(shutil.which("redis-server") is not None, "redis-server is not installed")
    with tempfile.TemporaryDirectory(prefix="meetnow-redis-") as folder:
        server = Redis(free_port(), Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()
