"""``make run``'s process (``manage.py run_dev``) stops the server, the worker and beat
within a few seconds on SIGTERM (a process manager), SIGHUP (its terminal closed) and
SIGINT (Ctrl-C), leaving no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, free_port

STOP_WITHIN = 8.0  # seconds from the signal until every process is gone (run_dev aims at ~5)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc: parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_all(pids: set[int]) -> None:
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_run_dev_stops_server_worker_and_beat_on_a_signal(
    signum: signal.Signals, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.pop("CELERY_BROKER_URL", None)  # make run's setup: SQLite and the embedded broker
    env.update({"MEETNOW_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"})
    port = free_port()
    log = (tmp_path / "run_dev.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_dev", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    family: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        server_up = worker_up = False
        while time.monotonic() < deadline and not (server_up and worker_up):
            assert proc.poll() is None, (tmp_path / "run_dev.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                server_up = True
            except urllib.error.HTTPError:
                server_up = True  # any answer: the server is up
            except OSError:
                pass
            worker_up = b"ready." in (tmp_path / "run_dev.log").read_bytes()
            time.sleep(0.2)
        assert server_up, (tmp_path / "run_dev.log").read_text()[-3000:]
        assert worker_up, (tmp_path / "run_dev.log").read_text()[-3000:]
        time.sleep(1.0)  # beat and the pool processes have started
        family = _descendants(proc.pid)
        assert len(family) >= 4, family  # uvicorn, the worker, its pool (and beat)

        start = time.monotonic()
        os.kill(proc.pid, signum)  # run_dev only, as a process manager does
        proc.wait(timeout=STOP_WITHIN + 5)
        while any(_alive(pid) for pid in family) and time.monotonic() - start < STOP_WITHIN + 5:
            time.sleep(0.1)
        elapsed = time.monotonic() - start
        left = {pid for pid in family if _alive(pid)}
        assert not left, f"still running after {elapsed:.1f} s: {left}"
        assert elapsed < STOP_WITHIN, f"took {elapsed:.1f} s"
        assert f"Stopping ({signum.name})" in (tmp_path / "run_dev.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        _kill_all(family | _descendants(proc.pid))
        log.close()
