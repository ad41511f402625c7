"""Run the ASGI server, a Celery worker and beat together in one terminal (``make run``).

Ctrl-C (SIGINT), SIGTERM (a process manager, an editor's task runner) and SIGHUP (the
terminal closed) all stop the three within a few seconds, and so does losing the
parent (``make`` killed): no orphans. Development only: production runs each as its
own service.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Seconds the worker gets for a warm shutdown (finish the task at hand) before a cold
# one (SIGQUIT: tasks are acks_late, so an interrupted one is redelivered), then SIGKILL.
# An idle worker on the embedded broker takes 6-7 s to exit after SIGTERM or SIGQUIT
# (its loop notices after about 3 s): past these few seconds it is killed, which can
# lose a message it had reserved (the embedded broker is for development only).
WARM_SECONDS = 3.5
COLD_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM if run_dev itself is killed (even with SIGKILL)."""
    os.setsid()  # its own process group: a terminal's Ctrl-C reaches run_dev only
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Run uvicorn (127.0.0.1:8000), a Celery worker and beat until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("run_dev is for development only.")
        bin_dir = f"{sys.prefix}/bin"
        queues = ",".join(settings.CELERY_QUEUES_ALL)
        commands = {
            "web": [
                f"{bin_dir}/uvicorn",
                "meetnow.asgi:application",
                "--host",
                options["host"],
                "--port",
                str(options["port"]),
                # One line per request comes from the app (meetnow.request), without
                # the query string uvicorn's access log would show.
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "2",
            ],
            "worker": [
                f"{bin_dir}/celery",
                "-A",
                "meetnow",
                "worker",
                "--beat",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
                "-Q",
                queues,
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
        }
        parent = os.getppid()
        previous = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
        procs: dict[str, subprocess.Popen[bytes]] = {}
        reason = "a process exited"
        try:
            for name, cmd in commands.items():
                procs[name] = subprocess.Popen(cmd, preexec_fn=_die_with_parent)  # noqa: S603
            self.stdout.write(
                f"MeetNow on http://{options['host']}:{options['port']}/ "
                f"(admin at /admin/, API docs at /api/docs/); worker and beat on queues "
                f"{queues}. Ctrl-C stops everything."
            )
            while all(p.poll() is None for p in procs.values()):
                if os.getppid() != parent:
                    reason = "parent process gone"
                    break
                time.sleep(0.2)
        except _Stop as stop:
            reason = str(stop)
        finally:
            for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the clean-up short
                signal.signal(sig, signal.SIG_IGN)
            self.stdout.write(f"Stopping ({reason})…")
            self._stop(procs)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, procs: dict[str, subprocess.Popen[bytes]]) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # uvicorn: graceful; celery: warm shutdown
        self._wait(procs.values(), WARM_SECONDS)
        worker = procs.get("worker")
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGQUIT)  # celery: cold shutdown
        self._wait(procs.values(), COLD_SECONDS)
        for proc in procs.values():
            if proc.poll() is None:
                self._kill_group(proc)
        self._wait(procs.values(), COLD_SECONDS)
        for proc in procs.values():  # the worker's pool processes, should any remain
            self._kill_group(proc)

    @staticmethod
    def _wait(procs: Any, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.01, deadline - time.monotonic()))

    @staticmethod
    def _kill_group(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
