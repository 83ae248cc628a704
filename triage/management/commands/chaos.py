"""`make chaos`: a submission burst while workers are killed and Redis and
PostgreSQL restart; then proof that every accepted enquiry is stored and classified
exactly once. Needs REDIS_URL and a PostgreSQL DATABASE_URL on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Count

from enquiries.models import Enquiry, Event
from enquiries.services import submit_enquiry
from triage import tasks


def _run(*cmd: str) -> None:
    subprocess.run(list(cmd), capture_output=True, timeout=60, check=False)


class Command(BaseCommand):
    help = "Chaos run: kill workers, restart Redis and PostgreSQL during a burst."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enquiries", type=int, default=300)

    def handle(self, *args: Any, enquiries: int, **options: Any) -> None:
        if not settings.REDIS_URL or connection.vendor != "postgresql":
            raise CommandError("chaos needs REDIS_URL and a PostgreSQL DATABASE_URL")
        env = {**os.environ, "CLASSIFY_SWEEP_AFTER_SECONDS": "5"}
        workers = [self._worker(env) for _ in range(2)]
        faults: dict[int, tuple[str, Callable[[], None]]] = {
            enquiries // 5: (
                "SIGKILL a worker child",
                lambda: self._kill_child(workers[0]),
            ),
            2 * enquiries // 5: ("restart Redis", self._restart_redis),
            3 * enquiries // 5: ("restart PostgreSQL", self._restart_postgres),
            4 * enquiries // 5: ("SIGKILL a whole worker", lambda: workers[1].kill()),
        }
        accepted: list[int] = []
        retries = 0
        started = time.monotonic()
        try:
            for i in range(enquiries):
                if i in faults:
                    name, action = faults[i]
                    self.stdout.write(f"  after {i} submissions: {name}")
                    action()
                while True:  # a client retries until the service accepts it
                    try:
                        enquiry, _ = submit_enquiry(
                            organisation_name="Chaos Ltd", organisation_type="sme",
                            contact_name="Chaos", email=f"chaos{i}@example.com",
                            development_stage="idea",
                            title=f"Chaos enquiry {i}: a wearable ECG patch",
                            description="A wearable patch that records the heart rhythm "
                            "for a week and flags atrial fibrillation to a cardiologist.",
                            notify=False,
                        )  # fmt: skip
                        accepted.append(enquiry.pk)
                        break
                    except DatabaseError:
                        retries += 1
                        close_old_connections()
                        connection.close()
                        time.sleep(0.2)
            workers.append(self._worker(env))  # replace the killed one
            deadline = time.monotonic() + 180
            pending = len(accepted)
            while time.monotonic() < deadline:
                try:
                    tasks.sweep()
                    pending = Enquiry.objects.filter(
                        pk__in=accepted, classification_state="pending"
                    ).count()
                except DatabaseError:
                    connection.close()
                if pending == 0:
                    break
                time.sleep(2)
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                try:
                    w.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    w.kill()
        self._report(accepted, retries, time.monotonic() - started)

    def _report(self, accepted: list[int], retries: int, seconds: float) -> None:
        rows = Enquiry.objects.filter(pk__in=accepted)
        states = dict(rows.values_list("classification_state").annotate(n=Count("id")))
        per_enquiry = (
            Event.objects.filter(enquiry__in=accepted, action="classified")
            .values("enquiry")
            .annotate(n=Count("id"))
        )
        twice = sum(1 for r in per_enquiry if r["n"] > 1)
        once = sum(1 for r in per_enquiry if r["n"] == 1)
        ok = (
            rows.count() == len(accepted)
            and states.get("pending", 0) == 0
            and twice == 0
        )
        self.stdout.write(
            f"accepted {len(accepted)} (client retries {retries}), stored {rows.count()}, "
            f"states {states}, classified once {once}, more than once {twice}, "
            f"{seconds:.0f} s: {'PASS' if ok else 'FAIL'}"
        )
        if not ok:
            sys.exit(1)

    def _worker(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "2",
             "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"chaos-{time.monotonic_ns()}@%h"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _kill_child(self, worker: subprocess.Popen[bytes]) -> None:
        out = subprocess.run(
            ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
        )
        for pid in out.stdout.split()[:1]:
            os.kill(int(pid), signal.SIGKILL)

    def _restart_redis(self) -> None:
        port = settings.REDIS_URL.rsplit(":", 1)[-1].split("/")[0]
        _run("redis-cli", "-p", port, "shutdown", "nosave")
        time.sleep(1)
        _run("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
             "--port", port, "--save", "", "--appendonly", "no",
             "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log")  # fmt: skip
        time.sleep(1)

    def _restart_postgres(self) -> None:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart")
        connection.close()
