from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat (Ctrl-C stops all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", 8000))
        )

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        bin_dir = Path(sys.executable).parent
        celery = [str(bin_dir / "celery"), "-A", "config"]
        commands = {
            "web": [str(bin_dir / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}",
                    "-w", "2", "--access-logfile", "-"],
            "worker": [*celery, "worker", "-l", "info", "--concurrency", "2",
                       "--without-gossip", "--without-mingle"],
            "beat": [*celery, "beat", "-l", "info"],
        }  # fmt: skip
        env = dict(os.environ)
        if not settings.REDIS_URL and "STAFF_TWO_FACTOR" not in env:
            env["STAFF_TWO_FACTOR"] = (
                "false"  # local demo only; on by default elsewhere
            )
        procs = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
        broker = "Redis" if settings.REDIS_URL else "embedded filesystem broker"
        login = Path(settings.BASE_DIR) / "var" / "demo-login.txt"
        who = login.read_text().split() if login.exists() else []
        self.stdout.write(
            f"\n  Public form:  http://127.0.0.1:{port}/\n"
            f"  Staff sign-in: http://127.0.0.1:{port}/staff/login/\n"
            f"  Case studies: http://127.0.0.1:{port}/case-studies/\n"
            f"  Staff queue:  http://127.0.0.1:{port}/staff/\n"
            f"  Admin:        http://127.0.0.1:{port}/admin/\n"
            + (f"  Demo staff login: {who[0]} / {who[1]}\n" if len(who) == 2 else "")
            + (
                "  Second factor switched off for this local demo (STAFF_TWO_FACTOR).\n"
                if env.get("STAFF_TWO_FACTOR") == "false"
                else ""
            )
            + f"  Worker and beat on the {broker}. Ctrl-C stops all three.\n"
        )
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(p.poll() is None for p in procs.values()):
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        dead = [n for n, p in procs.items() if p.returncode not in (0, -15, None)]
        if dead and not stopping:
            self.stderr.write(f"Stopped because {', '.join(dead)} exited.")
            sys.exit(1)
