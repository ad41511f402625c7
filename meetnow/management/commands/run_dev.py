"""Run the ASGI server, a Celery worker and beat together in one terminal (``make run``).

Ctrl-C stops all three. Development only: production runs each as its own service.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run uvicorn (127.0.0.1:8000), a Celery worker and beat until Ctrl-C."

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
        procs = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        self.stdout.write(
            f"MeetNow on http://{options['host']}:{options['port']}/ "
            f"(admin at /admin/, API docs at /api/docs/); worker and beat on queues {queues}. "
            "Ctrl-C stops everything."
        )
        try:
            while all(p.poll() is None for p in procs.values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop(procs)

    def _stop(self, procs: dict[str, subprocess.Popen[bytes]]) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 15
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
